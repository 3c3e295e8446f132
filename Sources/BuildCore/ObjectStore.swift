/// A bucket of an S3-compatible object store, seen as named objects under one prefix:
/// where artifacts live when several hubs share them (`--storage s3://…`). `ObjectStorage`'s
/// `S3ObjectStore` speaks the S3 protocol; `ProxTesting`'s `MemoryObjectStore` keeps
/// objects in memory.
///
/// Contract:
/// - Names are relative to the store's prefix (`blobs/sha256/<digest>`); they are made by
///   Prox, never taken from a request.
/// - A missing object is nil, never an error. Every other failure (unreachable, refused
///   credentials, a server error) is `.unavailable`, with a message naming the store and
///   what it answered.
/// - ``putFile(_:path:sha256:size:)`` returns once the whole object is stored: the store
///   checks the SHA-256 it is sent (`x-amz-checksum-sha256`), and the stored size is read
///   back and compared.
/// - ``getFile(_:to:limit:)`` streams the object into a new file and returns the SHA-256 and
///   size of what arrived: the caller compares them with what it expected.
public protocol ObjectStore: Sendable {
    /// Where the objects are, for logs and errors: `s3://bucket/prefix`.
    var location: String { get }

    /// Stores the file at `path` (`size` bytes, SHA-256 `sha256`, hex) as `name`, in parts
    /// when it is large.
    func putFile(_ name: String, path: String, sha256: String, size: Int64) async throws(ProxError)

    /// Stores a small object (a JSON document) as `name`.
    func putData(_ name: String, _ bytes: [UInt8], contentType: String) async throws(ProxError)

    /// Streams `name` into a new file at `path` (at most `limit` bytes); nil when there is no
    /// such object; `.invalidArtifact` when it holds more than `limit` bytes. On error the
    /// file may remain: the caller removes it.
    func getFile(_ name: String, to path: String, limit: Int64) async throws(ProxError) -> (sha256: String, size: Int64)?

    /// A small object's bytes (at most `limit`); nil when there is no such object.
    func getData(_ name: String, limit: Int) async throws(ProxError) -> [UInt8]?

    /// Removes `name`; removing a missing object is no error.
    func delete(_ name: String) async throws(ProxError)

    /// A URL that lets anyone GET `name` for `expires` without credentials (a presigned URL),
    /// for download redirects; with `fileName`, the download is saved under that name
    /// (`Content-Disposition`). Nil when none can be made now (the store's credentials
    /// cannot be had): the caller serves the bytes itself.
    func downloadURL(_ name: String, expires: Duration, fileName: String?) async -> String?
}
