import Dispatch
import Foundation
import Glibc

/// Small blocking socket helpers on 127.0.0.1 for test fixtures.
public enum Loopback {
    public static let host = "127.0.0.1"

    /// A TCP port on 127.0.0.1 that was free a moment ago: binds a socket to port 0, reads
    /// the port the kernel chose, and closes the socket.
    public static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw FixtureError(message: "socket: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var address = loopbackAddress(port: 0)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else { throw FixtureError(message: "bind 127.0.0.1:0: \(String(cString: strerror(errno)))") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard named == 0 else { throw FixtureError(message: "getsockname: \(String(cString: strerror(errno)))") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// Connects to 127.0.0.1:`port`, sends `request`, and reads until `done` accepts what
    /// arrived, the peer closes, or `timeout` passes. Nil when the connection is refused.
    public static func exchange(
        port: Int, send request: [UInt8], timeout: Duration = .seconds(2), until done: ([UInt8]) -> Bool = { _ in false }
    ) throws -> [UInt8]? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw FixtureError(message: "socket: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let (seconds, attoseconds) = timeout.components
        var limit = timeval(tv_sec: Int(seconds), tv_usec: Int(attoseconds / 1_000_000_000_000))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        var address = loopbackAddress(port: port)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { return nil }
        var sent = 0
        while sent < request.count {
            let n = request[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { return nil }
            sent += n
        }
        let deadline = ContinuousClock.now + timeout
        var received: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while !done(received), ContinuousClock.now < deadline {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { break }
            received += chunk[..<n]
        }
        return received
    }

    /// A reply to `httpGet`.
    public struct HTTPReply: Sendable {
        public let status: Int
        public let headers: [String]
        public let body: [UInt8]
        public var text: String { String(decoding: body, as: UTF8.self) }

        /// The official error shape's `status_code` and `error.message`.
        public func errorJSON() throws -> (status: Int?, message: String) {
            let json = try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any]
            let error = json?["error"] as? [String: Any]
            return (json?["status_code"] as? Int, error?["message"] as? String ?? "")
        }
    }

    /// Sends `raw` on a new connection (what no HTTP client would send: malformed
    /// requests, pipelined ones); returns the parsed reply and whether the server closed
    /// the connection within `timeout`.
    public static func rawExchange(port: Int, _ raw: [UInt8], timeout: Duration = .seconds(30)) async throws -> (reply: HTTPReply, closed: Bool) {
        try await blocking {
            let connection = try RawConnection(port: port)
            connection.send(raw)
            let (bytes, closed) = connection.read(timeout: timeout)
            return (try parseHTTP(bytes, what: String(decoding: raw.prefix(40), as: UTF8.self)), closed)
        }
    }

    /// A plain HTTP/1.0 GET of `path` from 127.0.0.1:`port` over a raw socket (no proxy
    /// settings, no client library), read until the server closes. The blocking socket
    /// calls run on a Dispatch thread, not the caller's.
    public static func httpGet(port: Int, path: String, timeout: Duration = .seconds(30)) async throws -> HTTPReply {
        let request = Array("GET \(path) HTTP/1.0\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\n\r\n".utf8)
        return try await blocking {
            guard let raw = try exchange(port: port, send: request, timeout: timeout) else {
                throw FixtureError(message: "GET http://127.0.0.1:\(port)\(path): connection refused")
            }
            return try parseHTTP(raw, what: "GET http://127.0.0.1:\(port)\(path)")
        }
    }

    /// Runs blocking socket work on a Dispatch thread, not the caller's.
    public static func blocking<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        let result: Result<T, any Error> = await withCheckedContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(returning: Result { try work() }) }
        }
        return try result.get()
    }

    /// Parses a raw HTTP/1.1 reply (status line, headers, the bytes after them).
    public static func parseHTTP(_ raw: [UInt8], what: String) throws -> HTTPReply {
        let separator = Array("\r\n\r\n".utf8)
        guard let end = raw.indices.first(where: { raw[$0...].starts(with: separator) }) else {
            throw FixtureError(message: "\(what): incomplete reply (\(raw.count) bytes)")
        }
        let lines = String(decoding: raw[..<end], as: UTF8.self).components(separatedBy: "\r\n")
        let statusWords = lines[0].split(separator: " ")
        guard statusWords.count >= 2, statusWords[0].hasPrefix("HTTP/"), let status = Int(statusWords[1]) else {
            throw FixtureError(message: "\(what): bad status line \(lines[0])")
        }
        return HTTPReply(status: status, headers: Array(lines.dropFirst()), body: Array(raw[(end + separator.count)...]))
    }

    static func loopbackAddress(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr(host)
        return address
    }
}

/// One raw TCP connection to 127.0.0.1, for sending what no HTTP client would (malformed
/// requests, a head one line at a time) and watching how the server answers and closes.
public final class RawConnection: @unchecked Sendable {
    private let fd: Int32

    public init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw FixtureError(message: "socket: \(String(cString: strerror(errno)))") }
        var address = Loopback.loopbackAddress(port: port)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            close(fd)
            throw FixtureError(message: "connect 127.0.0.1:\(port): \(String(cString: strerror(errno)))")
        }
    }

    deinit { close(fd) }

    /// Sends all of `bytes`; false when the peer has closed (or reset) the connection.
    @discardableResult
    public func send(_ bytes: [UInt8]) -> Bool {
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { return false }
            sent += n
        }
        return true
    }

    public func send(_ text: String) -> Bool { send(Array(text.utf8)) }

    /// Reads until the peer closes, `done` accepts what arrived, or `timeout` passes: what
    /// arrived, and whether the peer closed (end of stream or reset) within the time.
    public func read(timeout: Duration, until done: ([UInt8]) -> Bool = { _ in false }) -> (bytes: [UInt8], closed: Bool) {
        let deadline = ContinuousClock.now + timeout
        var received: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while !done(received) {
            let left = deadline - ContinuousClock.now
            guard left > .zero else { return (received, false) }
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let milliseconds = Int32(max(1, left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000))
            guard poll(&poller, 1, milliseconds) > 0 else { continue }
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { return (received, true) }
            received += chunk[..<n]
        }
        return (received, false)
    }
}
