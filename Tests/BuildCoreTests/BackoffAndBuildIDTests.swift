import BuildCore
import Foundation
import Testing

@Suite struct BackoffTests {
    @Test("waits double from the initial one up to the maximum; reset starts over")
    func doubling() {
        var backoff = Backoff(initial: .milliseconds(100), maximum: .milliseconds(500))
        #expect((0..<5).map { _ in backoff.next() } == [.milliseconds(100), .milliseconds(200), .milliseconds(400), .milliseconds(500), .milliseconds(500)])
        backoff.reset()
        #expect(backoff.current == .milliseconds(100))
    }
}

@Suite struct BuildIDTests {
    @Test("ids decode only when valid; random ids are 16 hex digits")
    func codable() throws {
        let id: BuildID = "job_1-A"
        let data = try JSONEncoder.prox.encode([id])
        #expect(String(decoding: data, as: UTF8.self) == #"["job_1-A"]"#)
        #expect(try JSONDecoder.prox.decode([BuildID].self, from: data) == [id])
        #expect(throws: DecodingError.self) { try JSONDecoder.prox.decode([BuildID].self, from: Data(#"["no spaces"]"#.utf8)) }
        let ids = Set((0..<1000).map { _ in BuildID.random() })
        #expect(ids.count == 1000)
        #expect(ids.allSatisfy { $0.rawValue.count == 16 && $0.rawValue.allSatisfy { "0123456789abcdef".contains($0) } })
    }
}
