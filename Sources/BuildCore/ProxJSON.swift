import Foundation

extension JSONEncoder {
    /// Prox's one JSON form, for the API, Redis and the cache index: sorted keys (stable
    /// output), slashes unescaped, ISO 8601 dates.
    public static let prox: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return encoder
    }()
}

extension JSONDecoder {
    /// Reads what ``Foundation/JSONEncoder/prox`` writes.
    public static let prox: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }()
}
