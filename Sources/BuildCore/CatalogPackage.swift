import Foundation

/// One package of the catalog, in the shape of caddyserver.com's `/api/packages`.
public struct CatalogPackage: Codable, Sendable, Equatable {
    public struct Module: Codable, Sendable, Equatable {
        public var name: String?
        public var docs: String?
        public var package: String?
        public var repo: String?
    }
    public var id: String?
    public var path: String
    public var published: String?
    public var updated: String?
    public var listed: Bool?
    public var available: Bool?
    public var downloads: Int?
    public var repo: String?
    public var modules: [Module]?
}

extension CatalogPackage {
    struct Envelope: Codable {
        var statusCode: Int?
        var result: [CatalogPackage]

        enum CodingKeys: String, CodingKey { case statusCode = "status_code", result }
    }

    /// The packages of a catalog document (`{"status_code": 200, "result": [...]}`), those
    /// with a path; a document of another shape throws (a `DecodingError`).
    public static func parseCatalog(_ data: [UInt8]) throws -> [CatalogPackage] {
        let envelope = try JSONDecoder().decode(Envelope.self, from: Data(data))
        return envelope.result.filter { !$0.path.isEmpty }
    }
}
