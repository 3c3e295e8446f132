/// One reply, as Redis 2's protocol (RESP2, all hiredis 0.14 speaks) gives it.
public enum RedisReply: Sendable, Equatable {
    case null
    case status(String)
    case integer(Int64)
    case bulk([UInt8])
    case array([RedisReply])

    /// The reply as text (bulk, status or integer).
    public var string: String? {
        switch self {
        case .bulk(let bytes): String(decoding: bytes, as: UTF8.self)
        case .status(let text): text
        case .integer(let n): String(n)
        default: nil
        }
    }

    public var int: Int64? {
        switch self {
        case .integer(let n): n
        case .bulk, .status: string.flatMap { Int64($0) }
        default: nil
        }
    }

    public var array: [RedisReply]? {
        if case .array(let items) = self { return items }
        return nil
    }

    public var isNull: Bool { self == .null }
}
