import BuildCore
import HTTPFront
import HTTPTypes
import NIOCore
import Testing

@Suite("who a client is") struct ClientIdentityTests {
    @Test("address ranges parse and match IPv4, IPv6 and IPv4-mapped addresses")
    func ranges() throws {
        let ten = try #require(AddressRange("10.0.0.0/8"))
        #expect(ten.contains(AddressRange.bytes(of: "10.200.1.1")!))
        #expect(!ten.contains(AddressRange.bytes(of: "11.0.0.1")!))
        #expect(ten.contains(AddressRange.bytes(of: "::ffff:10.1.2.3")!))
        let ula = try #require(AddressRange("fd00::/8"))
        #expect(ula.contains(AddressRange.bytes(of: "fd12:3456::1")!))
        #expect(!ula.contains(AddressRange.bytes(of: "10.0.0.1")!))
        #expect(AddressRange("127.0.0.1")?.prefix == 32)
        for bad in ["10.0.0.0/33", "example.com", "10.0.0/8", "", "::1/129"] { #expect(AddressRange(bad) == nil, "\(bad)") }
    }

    @Test("X-Forwarded-For counts only behind trusted proxies, read from the right")
    func forwarded() throws {
        let identifier = ClientIdentifier(trustedProxies: [AddressRange("10.0.0.0/8")!])
        let proxy = try SocketAddress(ipAddress: "10.0.0.2", port: 1)
        let stranger = try SocketAddress(ipAddress: "192.0.2.9", port: 1)
        let headers: HTTPFields = [HTTPField.Name("X-Forwarded-For")!: "6.6.6.6, 203.0.113.5, 10.0.0.7"]
        // The client claims 6.6.6.6; the last untrusted hop is what our proxies saw.
        #expect(identifier.client(peer: proxy, headers: headers) == "ip:203.0.113.5")
        #expect(identifier.client(peer: stranger, headers: headers) == "ip:192.0.2.9")
        #expect(identifier.client(peer: proxy, headers: [:]) == "ip:10.0.0.2")
        let garbage: HTTPFields = [HTTPField.Name("X-Forwarded-For")!: "nonsense, 10.0.0.9"]
        #expect(identifier.client(peer: proxy, headers: garbage) == "ip:10.0.0.9")
        let v6 = try SocketAddress(ipAddress: "2001:db8:aa:bb:1:2:3:4", port: 1)
        #expect(identifier.client(peer: v6, headers: [:]) == "ip:2001:db8:aa:bb:0:0:0:0/64")
        #expect(identifier.client(peer: stranger, headers: [:], acceptedToken: "secret-token-0123456789").hasPrefix("token:"))
        #expect(!identifier.client(peer: stranger, headers: [:], acceptedToken: "secret-token-0123456789").contains("secret"))
    }
}
