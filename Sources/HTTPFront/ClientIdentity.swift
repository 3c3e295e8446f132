import BuildCore
import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// An IPv4 or IPv6 address range (`10.0.0.0/8`, `fd00::/8`, `127.0.0.1`), for
/// `--trusted-proxies`.
public struct AddressRange: Sendable, Equatable, CustomStringConvertible {
    /// 4 bytes (IPv4) or 16 (IPv6).
    public let network: [UInt8]
    public let prefix: Int

    /// Parses `address[/prefix]`; nil when it is not one.
    public init?(_ text: String) {
        let parts = text.trimmingCharacters(in: .whitespaces).split(separator: "/", maxSplits: 1).map(String.init)
        guard let first = parts.first, let bytes = Self.bytes(of: first) else { return nil }
        let bits = bytes.count * 8
        if parts.count == 2 {
            guard let prefix = Int(parts[1]), (0...bits).contains(prefix) else { return nil }
            self.prefix = prefix
        } else {
            self.prefix = bits
        }
        self.network = bytes
    }

    public func contains(_ address: [UInt8]) -> Bool {
        guard address.count == network.count else { return false }
        var left = prefix
        for (a, n) in zip(address, network) where left > 0 {
            let take = min(8, left)
            let mask = UInt8(truncatingIfNeeded: 0xFF << (8 - take))
            if a & mask != n & mask { return false }
            left -= take
        }
        return true
    }

    public var description: String {
        (network.count == 4 ? network.map(String.init).joined(separator: ".") : Self.v6(network)) + "/\(prefix)"
    }

    /// The bytes of an IPv4 or IPv6 address; an IPv4-mapped IPv6 address gives its 4 bytes.
    public static func bytes(of text: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            return withUnsafeBytes(of: &v4) { Array($0) }
        }
        var v6 = in6_addr()
        let unbracketed = text.hasPrefix("[") && text.hasSuffix("]") ? String(text.dropFirst().dropLast()) : text
        guard inet_pton(AF_INET6, unbracketed, &v6) == 1 else { return nil }
        return normalized(withUnsafeBytes(of: &v6) { Array($0) })
    }

    static func normalized(_ bytes: [UInt8]) -> [UInt8] {
        if bytes.count == 16, bytes[0..<10].allSatisfy({ $0 == 0 }), bytes[10] == 0xFF, bytes[11] == 0xFF { return Array(bytes[12...]) }
        return bytes
    }

    static func v6(_ bytes: [UInt8]) -> String {
        stride(from: 0, to: 16, by: 2).map { String(UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]), radix: 16) }.joined(separator: ":")
    }
}

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
