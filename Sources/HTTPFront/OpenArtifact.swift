import BuildCore
import FileIO
import Foundation
import Hummingbird
import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An artifact file opened for one response. The descriptor is opened (and its size
/// checked against the index) before any header is sent, and closed when the response
/// body is done or dropped, so eviction of the file mid-response cannot truncate it.
struct OpenArtifact: Sendable {
    let file: ReadOnlyFile
    var fd: CInt { file.fd }
    var size: Int64 { file.size }

    init(record: ArtifactRecord) throws(ProxError) {
        do {
            file = try ReadOnlyFile(path: record.path, what: "a cached artifact")
        } catch {
            throw ProxError(.internal, "the cached artifact could not be opened; retry to rebuild it")
        }
        guard file.size == record.size else {
            throw ProxError(.internal, "the cached artifact is not whole (size differs from the index); it was not sent")
        }
    }

    /// Reads `range` in chunks and writes them to `writer`.
    func write(range: ClosedRange<Int64>, to writer: inout any ResponseBodyWriter, chunkSize: Int = 256 * 1024) async throws {
        var offset = range.lowerBound
        let allocator = ByteBufferAllocator()
        while offset <= range.upperBound {
            let length = Int(min(Int64(chunkSize), range.upperBound - offset + 1))
            let buffer = try await file.read(at: offset, length: length, allocator: allocator)
            guard buffer.readableBytes == length else { throw ProxError(.internal, "a cached artifact ended early; the response was cut") }
            try await writer.write(buffer)
            offset += Int64(length)
        }
    }
}
