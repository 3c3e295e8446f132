import BuildCore

/// Prox's keys in Redis (all under one prefix, `prox:` by default) and the Lua scripts
/// that change them. Every state change a hub or agent makes is one script, so it is
/// atomic: no reader sees a build half-queued or half-finished.
///
/// | Key | Type | Holds |
/// | --- | --- | --- |
/// | `jobs:<go version>` | stream, group `agents` | one entry per queued build of that toolchain: `build` (id), `job` (JSON ``BuildJob``); acknowledged and deleted when the build's result is recorded |
/// | `jobs:<go version>:background` | stream, group `agents` | the same for the server's own builds (cache warming): agents take them only when no user's build waits |
/// | `streams` | set | every `jobs:…` stream a hub has queued to: agents that may download toolchains read them all |
/// | `build:<id>` | hash | the build's record: `key`, `build` (JSON), `state`, `worker`, `attempts`, `created`/`started`/`finished` (ms), `error` (JSON), `digest`, `size`, `origin` (hub holding the artifact), `lines`, `entry` |
/// | `log:<id>` | stream | one entry per log line (`seq`, `event` JSON), then `end` = final state |
/// | `inflight:<cache key>` | string, with expiry | the id of the live build for that key (coalescing across hubs) |
/// | `alias:<id>` | string | a client-chosen `job_id` that joined another build |
/// | `active` | hash | id → cache key of every queued or running build (hubs renew their markers) |
/// | `queued` | set | ids of the builds waiting for an agent (the bound of `--max-queued-builds`) |
/// | `client:<client>:starts` | sorted set, with expiry | the builds a client started in the last period (`--client-build-rate`), scored by time |
/// | `client:<client>:active` | set, with expiry | the client's builds queued or running (`--client-concurrent-builds`) |
/// | `rate:<client>:<window>` | string, with expiry | requests of a client in one window (`--client-request-rate`) |
/// | `recent` | sorted set | ids by creation time, for `/api/builds` |
/// | `agents` | hash | agent name → JSON ``AgentAdvertisement`` (slots, running, toolchains, downloads, last seen) |
/// | `wake:<relay>` | stream | wakes a hub's log relay when its set of watched logs changes |
/// | `compat:<package path>`, `compat-last` | hashes | what finished builds taught about plugin versions (``RedisCompatibilityStore``) |
/// | `downloads`, `download-sets:<day>` | hash, sorted sets | downloads per package path and per package set, platform and day (``RedisDownloadCounter``) |
public struct RedisSchema: Sendable, Equatable {
    public var prefix: String
    /// How long a finished build's record is kept (`/api/builds/{id}`).
    public var recordTTL: Duration
    /// How long a finished build's log is kept.
    public var logTTL: Duration
    /// Lines kept per build log; later lines are dropped with a note.
    public var maxLogLines: Int
    /// Builds listed by `/api/builds`.
    public var recentLimit: Int
    /// Expiry of the in-flight marker of a build; renewed while the build is queued (by
    /// hubs) or running (by its agent's heartbeat).
    public var markerTTL: Duration

    public static let group = "agents"

    public init(
        prefix: String = "prox:", recordTTL: Duration = .seconds(7 * 86_400), logTTL: Duration = .seconds(86_400),
        maxLogLines: Int = 20_000, recentLimit: Int = 1_000, markerTTL: Duration = .seconds(120)
    ) {
        self.prefix = prefix
        self.recordTTL = recordTTL
        self.logTTL = logTTL
        self.maxLogLines = maxLogLines
        self.recentLimit = recentLimit
        self.markerTTL = markerTTL
    }

    public func jobs(goVersion: String) -> String { prefix + "jobs:" + goVersion }
    /// The stream of the server's own builds of that toolchain (``BuildJob/background``).
    public func backgroundJobs(goVersion: String) -> String { jobs(goVersion: goVersion) + RedisSchema.backgroundSuffix }
    public func jobs(for job: BuildJob) -> String {
        job.background ? backgroundJobs(goVersion: job.build.settings.goVersion) : jobs(goVersion: job.build.settings.goVersion)
    }
    static let backgroundSuffix = ":background"
    /// True for a `jobs:<go version>:background` stream.
    public static func isBackground(stream: String) -> Bool { stream.hasSuffix(backgroundSuffix) }
    public func build(_ id: BuildID) -> String { prefix + "build:" + id.rawValue }
    public func log(_ id: BuildID) -> String { logPrefix + id.rawValue }
    /// What every log stream's key starts with.
    public var logPrefix: String { prefix + "log:" }
    public func alias(_ id: BuildID) -> String { prefix + "alias:" + id.rawValue }
    public func inflight(_ key: CacheKey) -> String { prefix + "inflight:" + key.hex }
    public var active: String { prefix + "active" }
    public var recent: String { prefix + "recent" }
    public var agents: String { prefix + "agents" }
    public var streams: String { prefix + "streams" }
    public func wake(_ relay: String) -> String { prefix + "wake:" + relay }
    public var queued: String { prefix + "queued" }
    public func rate(_ client: String, window: Int64) -> String { prefix + "rate:" + client + ":" + String(window) }

    static func milliseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
    static func seconds(_ duration: Duration) -> Int64 { max(1, duration.components.seconds) }
}
