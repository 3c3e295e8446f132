import BuildCore
import Foundation
import GoProxyClient
import ProxTestSupport
import Testing

@Suite struct UpstreamFileTests {
    @Test("file:// documents: read, missing (nil), or required and missing (an error naming both)")
    func files() async throws {
        let directory = Fixture.temporaryDirectory("prox-upstream")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try Data(#"{"status_code": 200, "result": []}"#.utf8).write(to: URL(fileURLWithPath: directory + "/packages.json"))
        let catalog = UpstreamFile.packageCatalog(at: "file://\(directory)/packages.json")
        #expect(try await catalog.fetchRequired() == Array(#"{"status_code": 200, "result": []}"#.utf8))
        let missing = UpstreamFile.packageCatalog(at: "file://\(directory)/nothing.json")
        #expect(try await missing.fetch() == nil)
        let error = await #expect(throws: ProxError.self) { try await missing.fetchRequired() }
        #expect(error?.kind == .upstreamUnavailable)
        #expect(error?.message == "package endpoint file://\(directory)/nothing.json did not find the package catalog")
    }

    @Test("an HTTP upstream that cannot be reached is upstreamUnavailable, credentials hidden")
    func unreachable() async throws {
        let port = try Loopback.freePort()
        var file = UpstreamFile.packageCatalog(at: "http://user:secret@127.0.0.1:\(port)/api/packages")
        file.timeout = .seconds(1)  // the HTTP client retries a refused connection until the deadline
        let error = await #expect(throws: ProxError.self) { try await file.fetch() }
        #expect(error?.kind == .upstreamUnavailable)
        #expect(error?.message.hasPrefix("package endpoint http://***@127.0.0.1:\(port)/api/packages could not be reached for the package catalog") == true, "\(String(describing: error))")
        #expect(error?.message.contains("secret") == false)
    }
}
