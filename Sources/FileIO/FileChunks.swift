import BuildCore
import NIOCore

/// A file's bytes as an async sequence of 256 KiB buffers, read on NIO's thread pool.
public struct FileChunks: AsyncSequence, Sendable {
    public typealias Element = ByteBuffer
    public let path: String
    public var chunkSize: Int

    public init(path: String, chunkSize: Int = 256 * 1024) {
        self.path = path
        self.chunkSize = chunkSize
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        let path: String
        let chunkSize: Int
        var file: ReadOnlyFile?
        var offset: Int64 = 0

        public mutating func next() async throws -> ByteBuffer? {
            if file == nil { file = try ReadOnlyFile(path: path, what: "the file") }
            let buffer = try await file!.read(at: offset, length: chunkSize)
            guard buffer.readableBytes > 0 else { return nil }
            offset += Int64(buffer.readableBytes)
            return buffer
        }
    }

    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(path: path, chunkSize: chunkSize) }
}
