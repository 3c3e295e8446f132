import Foundation

/// Where the last good copy of an upstream document (the package catalog) is kept, so a
/// failing upstream changes nothing.
public protocol DocumentStore: Sendable {
    func loadDocument(named name: String) async -> (data: [UInt8], fetchedAt: Date)?
    func saveDocument(named name: String, data: [UInt8]) async throws(ProxError)
}
