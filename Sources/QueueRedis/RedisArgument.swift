import BuildCore

/// An argument of a Redis command: text or raw bytes, sent binary-safe.
public protocol RedisArgument: Sendable {
    var redisBytes: [UInt8] { get }
}

extension String: RedisArgument { public var redisBytes: [UInt8] { Array(utf8) } }

extension Int: RedisArgument { public var redisBytes: [UInt8] { Array(String(self).utf8) } }

extension Int64: RedisArgument { public var redisBytes: [UInt8] { Array(String(self).utf8) } }

extension Array: RedisArgument where Element == UInt8 { public var redisBytes: [UInt8] { self } }
extension BuildID: RedisArgument { public var redisBytes: [UInt8] { Array(rawValue.utf8) } }
