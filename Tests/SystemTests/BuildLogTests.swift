import AsyncHTTPClient
import BuildCore
import Foundation
import HTTPFront
import NIOCore
import NIOHTTP1
import ProxCommands
import ProxTestSupport
import Testing

/// `/api/builds` and its live log over Server-Sent Events.
@Suite struct BuildLogTests {
    struct SSEEvent {
        var id: Int?
        var event = "message"
        var data = ""
    }

    /// Reads a whole SSE response (it ends with the build) and splits it into events.
    static func readEvents(_ hub: some HubClient, _ path: String, lastEventID: Int? = nil) async throws -> (events: [SSEEvent], raw: String) {
        var request = HTTPClientRequest(url: hub.url(path))
        if let lastEventID { request.headers.add(name: "Last-Event-ID", value: String(lastEventID)) }
        let response = try await testHTTPClient.execute(request, timeout: .seconds(300))
        #expect(response.headers.first(name: "Content-Type")?.hasPrefix("text/event-stream") == true)
        var raw = ""
        for try await chunk in response.body { raw += String(buffer: chunk) }
        var events: [SSEEvent] = []
        for block in raw.components(separatedBy: "\n\n") where !block.isEmpty {
            var event = SSEEvent()
            var isEvent = false
            for line in block.split(separator: "\n") {
                if line.hasPrefix("id: ") { event.id = Int(line.dropFirst(4)); isEvent = true }
                if line.hasPrefix("event: ") { event.event = String(line.dropFirst(7)); isEvent = true }
                if line.hasPrefix("data: ") { event.data += line.dropFirst(6); isEvent = true }
            }
            if isEvent { events.append(event) }
        }
        return (events, raw)
    }

    @Test func aWatcherJoiningMidBuildReceivesEveryLineFromTheFirst() async throws {
        let hub = try await LiveHub.start(goExecutable: try slowGo(seconds: 4)) { $0.sseHeartbeat = .milliseconds(500) }
        defer { Task { await hub.stop() } }
        let submitted = try await hub.request(
            "/api/builds", method: .POST,
            body: #"{"os": "linux", "arch": "arm64", "packages": ["github.com/proxfixture/hello@v0.2.0"], "version": "v2.8.0"}"#
        )
        #expect(submitted.status == 202, "\(submitted.text)")
        let build = try #require(try submitted.json()["result"] as? [String: Any])
        let id = try BuildID(validating: try #require(build["id"] as? String))
        #expect(submitted.header("Location") == "/api/builds/\(id)")

        // Join once the build is running and has logged its first steps, but is not done.
        let logs = try #require(hub.hub.api.logs as? MemoryLogBus)
        #expect(try await eventually { (logs.events(of: id)?.contains { $0.step == .build } ?? false) })
        let state = try await hub.get("/api/builds/\(id)")
        #expect((try state.json()["result"] as? [String: Any])?["state"] as? String == "running")

        let (events, raw) = try await Self.readEvents(hub, "/api/builds/\(id)/logs")
        let logEvents = events.filter { $0.event == "log" }
        let ids = logEvents.compactMap(\.id)
        #expect(ids.first == 1, "replay starts at the first line")
        #expect(ids == Array(1...ids.count), "no line lost or repeated")
        #expect(ids.count == logs.events(of: id)?.count, "every line the build logged")
        #expect(raw.contains(": heartbeat"), "heartbeats while go build is quiet")
        let result = try #require(events.last)
        #expect(result.event == "result")
        let final = try #require(try JSONSerialization.jsonObject(with: Data(result.data.utf8)) as? [String: Any])
        #expect(final["state"] as? String == "succeeded")
        #expect(final["caddy_version"] as? String == "v2.8.0")
        let artifact = try #require(final["artifact"] as? [String: Any])

        // Resuming after event 3 starts at 4.
        let (resumed, _) = try await Self.readEvents(hub, "/api/builds/\(id)/logs", lastEventID: 3)
        #expect(resumed.first { $0.event == "log" }?.id == 4)

        // The artifact link serves the binary the log announced.
        let download = try await hub.get("/api/builds/\(id)/artifact")
        #expect(download.status == 200)
        #expect(download.sha256 == artifact["sha256"] as? String)
        #expect(download.body.count == artifact["size"] as? Int)

        let recent = try await hub.get("/api/builds")
        let list = try #require(try recent.json()["result"] as? [[String: Any]])
        #expect(list.first?["id"] as? String == id.rawValue)
    }

    @Test func aClientChosenJobIDNamesTheBuildAndJoinsIdenticalOnes() async throws {
        let hub = try await LiveHub.start(goExecutable: try slowGo(seconds: 2))
        defer { Task { await hub.stop() } }
        let body = #"{"os": "linux", "arch": "amd64", "p": ["github.com/proxfixture/multi/handlers"], "job_id": "my-job_1"}"#
        let first = try await hub.request("/api/builds", method: .POST, body: body)
        #expect(first.status == 202, "\(first.text)")
        #expect((try first.json()["result"] as? [String: Any])?["id"] as? String == "my-job_1")
        let again = try await hub.request("/api/builds", method: .POST, body: body)
        #expect((try again.json()["result"] as? [String: Any])?["id"] as? String == "my-job_1")
        let other = #"{"os": "linux", "arch": "amd64", "p": ["github.com/proxfixture/hello"], "job_id": "my-job_1"}"#
        let clash = try await hub.request("/api/builds", method: .POST, body: other)
        #expect(clash.status == 400, "a job id names one build")

        // prox-builder's flow: download with a job_id while the build runs; same binary, one build.
        let download = try await hub.get("/api/download?os=linux&arch=amd64&p=github.com%2Fproxfixture%2Fmulti%2Fhandlers&job_id=watcher-2")
        #expect(download.status == 200)
        let joined = try await hub.get("/api/builds/watcher-2")
        #expect((try joined.json()["result"] as? [String: Any])?["id"] as? String == "my-job_1")
        #expect(await hub.buildsStarted == 1)
    }
}
