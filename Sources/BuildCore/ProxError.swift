import Foundation

/// An error Prox reports to a client or operator.
///
/// Errors are data: a ``Kind`` that says what went wrong in terms a caller can act on,
/// and a message written for a person ("what was wrong, and what to send instead").
/// Only the HTTP layer maps kinds to status codes.
public struct ProxError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable, Codable {
        /// The request itself is wrong: bad platform, module path, version, conflicting values.
        case invalidRequest
        /// The request names a package that is not in the catalog.
        case notListed
        /// A module or version named in a request could not be found through the module proxy.
        case moduleNotFound
        /// The thing asked for (a build id, an artifact) does not exist (any more).
        case notFound
        /// The module proxy (or another upstream) failed or could not be reached.
        case upstreamUnavailable
        /// The Go build ran and failed (compiler error, missing package, ...).
        case buildFailed
        /// No Go toolchain this server may use satisfies the build's go.mod files (or the
        /// toolchain could not be downloaded): the message names the version and the flag.
        case toolchainUnavailable
        /// The build ran out of time.
        case buildTimedOut
        /// The build was cancelled (shutdown, client request).
        case cancelled
        /// The produced file is not a valid executable for the requested target.
        case invalidArtifact
        /// The artifact does not fit in the cache quota.
        case insufficientStorage
        /// The service is not able to take this request now (queue unavailable, shutting down).
        case unavailable
        /// A client went over one of its limits (builds per hour, concurrent builds,
        /// requests per minute): ``ProxError/retryAfter`` says when to come back.
        case rateLimited
        /// A credential was missing or wrong.
        case unauthorized
        /// A credential was given but does not allow this.
        case forbidden
        /// A bug or an I/O failure on the server.
        case `internal`
    }

    public var kind: Kind
    public var message: String
    /// When a refused request may succeed if sent again (seconds): set for limits and a
    /// full queue, sent as `Retry-After`.
    public var retryAfter: Int?

    public init(_ kind: Kind, _ message: String, retryAfter: Int? = nil) {
        self.kind = kind
        self.message = message
        self.retryAfter = retryAfter
    }

    public var description: String { "\(kind.rawValue): \(message)" }

    public static func invalid(_ message: String) -> ProxError { ProxError(.invalidRequest, message) }

    /// A client-chosen build id (`job_id`) that already names a build of another key.
    public static func jobIDTaken(_ id: BuildID) -> ProxError {
        .invalid("job_id \(id) is already used by another build: choose a new job_id")
    }

    /// A full disk, as clients see it (507): no server path, what to do about it.
    public static func diskFull(while doing: String) -> ProxError {
        ProxError(
            .insufficientStorage,
            "the server's disk is full (while \(doing)): cached builds are still served; retry later, or ask the operator to free space in the data directory or lower --cache-max-size"
        )
    }

    /// A file-system error: ENOSPC or EDQUOT (however Foundation wraps it) becomes
    /// ``diskFull(while:)``; anything else `.internal`, described by its error number and
    /// never by the path Foundation puts in its descriptions.
    public static func fileSystem(_ error: any Error, while doing: String) -> ProxError {
        let code = posixCode(of: error)
        if let code, code == ENOSPC || code == EDQUOT { return diskFull(while: doing) }
        let nsError = error as NSError
        if nsError.domain == NSCocoaErrorDomain, nsError.code == NSFileWriteOutOfSpaceError { return diskFull(while: doing) }
        return ProxError(.internal, "cannot \(doing): " + (code.map { String(cString: strerror($0)) } ?? "\(nsError.domain) error \(nsError.code)"))
    }

    /// A failed system call's errno, as ``fileSystem(_:while:)`` reports it.
    public static func posix(_ code: Int32, while doing: String) -> ProxError {
        if code == ENOSPC || code == EDQUOT { return diskFull(while: doing) }
        return ProxError(.internal, "cannot \(doing): \(String(cString: strerror(code)))")
    }

    static func posixCode(of error: any Error) -> Int32? {
        if let posix = error as? POSIXError { return posix.code.rawValue }
        let nsError = error as NSError
        if nsError.domain == NSPOSIXErrorDomain { return Int32(nsError.code) }
        if let underlying = nsError.userInfo[NSUnderlyingErrorKey] as? NSError { return posixCode(of: underlying) }
        return nil
    }
}

extension ProxError: Codable {
    private enum CodingKeys: String, CodingKey { case kind, message, retryAfter = "retry_after" }
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            try c.decode(Kind.self, forKey: .kind), try c.decode(String.self, forKey: .message),
            retryAfter: try c.decodeIfPresent(Int.self, forKey: .retryAfter)
        )
    }
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(kind, forKey: .kind)
        try c.encode(message, forKey: .message)
        try c.encodeIfPresent(retryAfter, forKey: .retryAfter)
    }
}
