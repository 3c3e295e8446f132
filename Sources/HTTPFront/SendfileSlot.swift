import NIOCore
import NIOHTTPTypes
import NIOHTTPTypesHTTP1
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One connection's pending file regions, held by its ``SendfileHandler``.
public final class SendfileSlot: Sendable {
    struct Pending: Sendable {
        let fd: CInt
        let offset: Int64
        let count: Int64
    }

    private struct State {
        var closed = false
        var pending: [String: Pending] = [:]
    }

    static let magic = "\u{0}prox-sendfile\u{0}"
    static let tokenLength = magic.utf8.count + 32

    private let state = Mutex(State())

    init() {}

    static let regions = Atomic<Int>(0)

    /// File regions handed to NIO since the process started (for tests).
    public static var regionsWritten: Int { regions.load(ordering: .relaxed) }

    /// Registers `count` bytes of `fd` from `offset` (the descriptor is duplicated: the
    /// caller keeps its own) and returns the token to write as the response body. Nil when
    /// the connection has closed.
    func enqueue(fd: CInt, offset: Int64, count: Int64) -> ByteBuffer? {
        let copy = dup(fd)
        guard copy >= 0 else { return nil }
        let tokenID = Self.randomHex()
        let accepted = state.withLock { state in
            if state.closed { return false }
            state.pending[tokenID] = Pending(fd: copy, offset: offset, count: count)
            return true
        }
        guard accepted else {
            closeDescriptor(copy)
            return nil
        }
        var buffer = ByteBuffer()
        buffer.writeString(Self.magic + tokenID)
        return buffer
    }

    /// The region a token stands for, removed from the slot (the caller now owns its
    /// descriptor); nil for any other buffer.
    func take(token buffer: ByteBuffer) -> Pending? {
        guard buffer.readableBytes == Self.tokenLength, let text = buffer.getString(at: buffer.readerIndex, length: buffer.readableBytes),
            text.hasPrefix(Self.magic)
        else { return nil }
        let tokenID = String(text.dropFirst(Self.magic.count))
        return state.withLock { $0.pending.removeValue(forKey: tokenID) }
    }

    /// Closes the descriptor of a token that was never sent.
    func discard(token buffer: ByteBuffer) {
        if let pending = take(token: buffer) { closeDescriptor(pending.fd) }
    }

    /// The connection is gone: closes every descriptor still pending.
    func close() {
        let pending = state.withLock { state in
            state.closed = true
            defer { state.pending = [:] }
            return Array(state.pending.values)
        }
        for entry in pending { closeDescriptor(entry.fd) }
    }

    /// Descriptors waiting for their token (for tests).
    var pendingCount: Int { state.withLock { $0.pending.count } }

    private static func randomHex() -> String {
        var generator = SystemRandomNumberGenerator()
        func digits(_ value: UInt64) -> String {
            let hex = String(value, radix: 16)
            return String(repeating: "0", count: 16 - hex.count) + hex
        }
        return digits(generator.next()) + digits(generator.next())  // 32 hex digits
    }
}

private func closeDescriptor(_ fd: CInt) {
    _ = close(fd)
}
