import Foundation

/// A build's id: in URLs (`/api/builds/{id}`), log streams, Redis keys and error bodies.
///
/// New ids are 16 lower-case hex digits. A client may choose one (prox-builder's
/// `job_id`): 1 to 64 of `A-Z a-z 0-9 - _`, so an id is always safe in a path, a header
/// and a Redis key.
public struct BuildID: RawRepresentable, Hashable, Sendable, Codable, CustomStringConvertible, ExpressibleByStringLiteral {
    public let rawValue: String

    /// Nil unless `rawValue` is a valid id.
    public init?(rawValue: String) {
        guard Self.isValid(rawValue) else { return nil }
        self.rawValue = rawValue
    }

    /// `text` as an id, or `.invalidRequest` naming the rule.
    public init(validating text: String) throws(ProxError) {
        guard Self.isValid(text) else {
            throw .invalid("bad job id \(Platform.quoted(text)): use 1 to 64 letters, digits, - or _")
        }
        rawValue = text
    }

    /// For ids written in code; an invalid literal is a programming error.
    public init(stringLiteral value: String) {
        guard Self.isValid(value) else { preconditionFailure("invalid build id literal \(value)") }
        rawValue = value
    }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard Self.isValid(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "invalid build id \(text)"))
        }
        rawValue = text
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }

    /// A new id: 16 random lower-case hex digits.
    public static func random() -> BuildID {
        var generator = SystemRandomNumberGenerator()
        let value = generator.next() as UInt64
        let hex = String(value, radix: 16)
        return BuildID(unchecked: String(repeating: "0", count: 16 - hex.count) + hex)
    }

    private init(unchecked: String) { rawValue = unchecked }

    public var description: String { rawValue }

    static func isValid(_ text: String) -> Bool {
        (1...64).contains(text.utf8.count)
            && text.utf8.allSatisfy { $0 < 0x80 && (Character(Unicode.Scalar($0)).isASCIIAlphanumeric || $0 == 0x2D || $0 == 0x5F) }
    }
}
