import BuildCore
import Crypto
import Foundation
import HTTPTypes
import NIOCore

/// Who a request comes from, for per-client limits: the peer address; the first address
/// in `X-Forwarded-For` that is not a trusted proxy, read from the right, when the peer is
/// one of `--trusted-proxies`; or the pull token the request carries (a token identifies
/// a client only once it has been accepted, so invented tokens do not escape the limits).
public struct ClientIdentifier: Sendable {
    public let trustedProxies: [AddressRange]

    public init(trustedProxies: [AddressRange] = []) {
        self.trustedProxies = trustedProxies
    }

    public func client(peer: SocketAddress?, headers: HTTPFields, acceptedToken: String? = nil) -> ClientID {
        if let acceptedToken { return Self.tokenClient(acceptedToken) }
        guard var address = peer.flatMap(Self.bytes(of:)) else { return "ip:unknown" }
        if trusted(address) {
            // X-Forwarded-For: client, proxy1, proxy2 (each proxy appends the address it saw).
            let forwarded = headers[values: .init("X-Forwarded-For")!].flatMap { $0.split(separator: ",") }
                .map { $0.trimmingCharacters(in: .whitespaces) }
            for hop in forwarded.reversed() {
                guard let hopAddress = AddressRange.bytes(of: hop) else { break }  // garbage: stop at the last good one
                address = hopAddress
                if !trusted(hopAddress) { break }
            }
        }
        return Self.addressClient(address)
    }

    func trusted(_ address: [UInt8]) -> Bool { trustedProxies.contains { $0.contains(address) } }

    static func tokenClient(_ token: String) -> ClientID {
        "token:" + SHA256.hash(data: Data(token.utf8)).hexString.prefix(16)
    }

    /// IPv4 addresses as they are; IPv6 by /64 (one household or host gets a /64).
    static func addressClient(_ address: [UInt8]) -> ClientID {
        if address.count == 4 { return "ip:" + address.map(String.init).joined(separator: ".") }
        return "ip:" + AddressRange.v6(Array(address.prefix(8)) + Array(repeating: 0, count: 8)) + "/64"
    }

    static func bytes(of address: SocketAddress) -> [UInt8]? {
        switch address {
        case .v4(let v4):
            var raw = v4.address.sin_addr
            return withUnsafeBytes(of: &raw) { Array($0) }
        case .v6(let v6):
            var raw = v6.address.sin6_addr
            return AddressRange.normalized(withUnsafeBytes(of: &raw) { Array($0) })
        default:
            return nil
        }
    }
}
