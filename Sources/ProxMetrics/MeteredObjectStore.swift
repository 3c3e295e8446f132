import BuildCore
import CoreMetrics

/// An ``ObjectStore`` that counts its calls by operation, and their failures:
/// `prox_s3_operations_total{operation}`, `prox_s3_errors_total{operation}` and
/// `prox_s3_operation_duration_seconds{operation}` (`put`, `get`, `delete`).
public struct MeteredObjectStore: ObjectStore {
    public let base: any ObjectStore
    let metrics: ProxMetrics

    public init(_ base: any ObjectStore, metrics: ProxMetrics) {
        self.base = base
        self.metrics = metrics
        for operation in ["put", "get", "delete"] {
            _ = metrics.counter("prox_s3_operations_total", [("operation", operation)])
            _ = metrics.counter("prox_s3_errors_total", [("operation", operation)])
        }
    }

    public var location: String { base.location }

    private func measure<T>(_ operation: String, _ body: () async throws(ProxError) -> T) async throws(ProxError) -> T {
        let began = ContinuousClock.now
        metrics.counter("prox_s3_operations_total", [("operation", operation)]).increment()
        defer { metrics.timer("prox_s3_operation_duration_seconds", [("operation", operation)]).recordInterval(began, .now) }
        do {
            return try await body()
        } catch {
            metrics.counter("prox_s3_errors_total", [("operation", operation)]).increment()
            throw error
        }
    }

    public func putFile(_ name: String, path: String, sha256: String, size: Int64) async throws(ProxError) {
        try await measure("put") { () async throws(ProxError) in try await base.putFile(name, path: path, sha256: sha256, size: size) }
    }

    public func putData(_ name: String, _ bytes: [UInt8], contentType: String) async throws(ProxError) {
        try await measure("put") { () async throws(ProxError) in try await base.putData(name, bytes, contentType: contentType) }
    }

    public func getFile(_ name: String, to path: String, limit: Int64) async throws(ProxError) -> (sha256: String, size: Int64)? {
        try await measure("get") { () async throws(ProxError) in try await base.getFile(name, to: path, limit: limit) }
    }

    public func getData(_ name: String, limit: Int) async throws(ProxError) -> [UInt8]? {
        try await measure("get") { () async throws(ProxError) in try await base.getData(name, limit: limit) }
    }

    public func delete(_ name: String) async throws(ProxError) {
        try await measure("delete") { () async throws(ProxError) in try await base.delete(name) }
    }

    public func downloadURL(_ name: String, expires: Duration, fileName: String?) async -> String? {
        await base.downloadURL(name, expires: expires, fileName: fileName)
    }
}
