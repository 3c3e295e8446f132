import Testing

@testable import QueueRedis

@Suite struct RedisReplyTests {
    @Test func accessorsReadTextIntegersAndArrays() {
        #expect(RedisReply.bulk(Array("42".utf8)).int == 42)
        #expect(RedisReply.integer(7).string == "7")
        #expect(RedisReply.status("OK").string == "OK")
        #expect(RedisReply.null.string == nil)
        #expect(RedisReply.array([.integer(1)]).array == [.integer(1)])
        #expect(RedisReply.bulk([0xff, 0x00]).array == nil)
    }

    @Test func addressBracketsIPv6() {
        #expect(RedisConfiguration(host: "::1", port: 6380).address == "[::1]:6380")
        #expect(RedisConfiguration(host: "localhost").address == "localhost:6379")
    }
}
