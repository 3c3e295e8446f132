import BuildCore
import Crypto
import Foundation
import NIOHTTP1
import Testing

/// The embedded UI's files as HTTP resources (the browser tests in Tests/BrowserTests drive
/// the page itself), and `/api/platforms`, which the page's platform list comes from.
@Suite struct WebUIRouteTests {
    @Test func thePageAndItsFilesAreServedFromTheBinaryWithTypesAndValidators() async throws {
        let hub = try await LiveHub.start()
        defer { Task { await hub.stop() } }

        let page = try await hub.get("/")
        #expect(page.status == 200)
        #expect(page.header("Content-Type") == "text/html; charset=utf-8")
        #expect(page.text.contains("<script type=\"module\" src=\"/ui/app.js\"></script>"))
        let csp = try #require(page.header("Content-Security-Policy"))
        #expect(csp.contains("default-src 'self'") && csp.contains("script-src 'self'") && csp.contains("connect-src 'self'"))
        #expect(!page.text.contains("http://") && !page.text.contains("https://"), "nothing is fetched from another origin")

        // Every file the page names, and every module app.js imports, is served with its type.
        let files: [(String, String)] = [
            ("/ui/app.js", "text/javascript; charset=utf-8"), ("/ui/api.js", "text/javascript; charset=utf-8"),
            ("/ui/catalog.js", "text/javascript; charset=utf-8"), ("/ui/log.js", "text/javascript; charset=utf-8"),
            ("/ui/platform.js", "text/javascript; charset=utf-8"), ("/ui/style.css", "text/css; charset=utf-8"),
            ("/ui/favicon.svg", "image/svg+xml"),
        ]
        for (path, type) in files {
            let file = try await hub.get(path)
            #expect(file.status == 200, "\(path)")
            #expect(file.header("Content-Type") == type, "\(path)")
            #expect(file.header("X-Content-Type-Options") == "nosniff", "\(path)")
            #expect(file.header("Cache-Control") == "no-cache", "\(path): revalidated on every load")
            #expect(file.header("ETag") == "\"\(file.sha256)\"", "\(path): the strong ETag is the body's SHA-256")
            #expect(file.header("Content-Length") == String(file.body.count), "\(path)")
            #expect(!file.text.contains("https://") && !file.text.contains("http://") || path == "/ui/favicon.svg", "\(path): no external URL")
        }
        let app = try await hub.get("/ui/app.js")
        for imported in ["./api.js", "./catalog.js", "./log.js", "./platform.js"] {
            #expect(app.text.contains("from \"\(imported)\""))
        }
        for (name, _) in files.dropFirst() where name.hasSuffix(".js") || name.hasSuffix(".css") || name.hasSuffix(".svg") {
            #expect(page.text.contains(name) || app.text.contains("./" + name.dropFirst(4)), "\(name) is used")
        }
    }

    @Test func conditionalAndHeadRequestsAndUnknownFiles() async throws {
        let hub = try await LiveHub.start()
        defer { Task { await hub.stop() } }
        let page = try await hub.get("/")
        let etag = try #require(page.header("ETag"))

        let notModified = try await hub.get("/", headers: [("If-None-Match", etag)])
        #expect(notModified.status == 304)
        #expect(notModified.body.isEmpty)
        #expect(notModified.header("ETag") == etag)
        let weak = try await hub.get("/", headers: [("If-None-Match", "W/" + etag)])
        #expect(weak.status == 304, "If-None-Match compares weakly")
        let changed = try await hub.get("/", headers: [("If-None-Match", "\"0000\"")])
        #expect(changed.status == 200)
        #expect(changed.body == page.body)

        let head = try await hub.request("/ui/style.css", method: .HEAD)
        #expect(head.status == 200)
        #expect(head.body.isEmpty)
        #expect(Int(head.header("Content-Length") ?? "") ?? 0 > 1000)

        for path in ["/ui/missing.js", "/ui/../Package.swift", "/ui/", "/index.html"] {
            let missing = try await hub.get(path)
            #expect(missing.status == 404, "\(path)")
            #expect(missing.header("Content-Type") == "application/json; charset=utf-8", "\(path): the API's error shape")
            #expect(try missing.json()["status_code"] as? Int == 404, "\(path)")
        }
        let post = try await hub.request("/", method: .POST, body: "x")
        #expect(post.status == 404 || post.status == 405, "only GET and HEAD")
    }

    @Test func platformsListsEveryTargetWithGOARMVariantsAsTheirOwnEntries() async throws {
        let hub = try await LiveHub.start()
        defer { Task { await hub.stop() } }
        let reply = try await hub.get("/api/platforms")
        #expect(reply.status == 200)
        #expect(reply.header("Cache-Control") == "public, max-age=3600")
        let json = try reply.json()
        #expect(json["status_code"] as? Int == 200)
        let result = try #require(json["result"] as? [[String: Any]])
        #expect(result.count == Platform.all.count)
        let targets = result.compactMap { $0["target"] as? String }
        #expect(targets == Platform.all.map(\.description))
        #expect(targets.prefix(5) == ["linux/amd64", "linux/arm64", "linux/arm/v5", "linux/arm/v6", "linux/arm/v7"])
        let armSix = try #require(result.first { $0["target"] as? String == "linux/arm/v6" })
        #expect(armSix["os"] as? String == "linux" && armSix["arch"] as? String == "arm" && armSix["arm"] as? Int == 6)
        let amd64 = try #require(result.first)
        #expect(amd64["arm"] == nil, "arm only for arch=arm")
        // Each target is one the download API accepts.
        for entry in result {
            let arm = (entry["arm"] as? Int).map(String.init)
            #expect(throws: Never.self) { try Platform(os: entry["os"] as? String ?? "", arch: entry["arch"] as? String ?? "", arm: arm) }
        }
    }
}
