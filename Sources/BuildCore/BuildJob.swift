import Foundation

/// One build to run: its id (also the log's id), exact inputs and cache key.
public struct BuildJob: Sendable, Codable, Equatable {
    public var id: BuildID
    public var build: ResolvedBuild
    public var key: CacheKey
    public var enqueuedAt: Date
    /// The server's own work (cache warming): it waits until no user's build is waiting.
    public var background: Bool

    public init(id: BuildID, build: ResolvedBuild, enqueuedAt: Date = Date(), background: Bool = false) {
        self.id = id
        self.build = build
        self.key = build.cacheKey
        self.enqueuedAt = enqueuedAt
        self.background = background
    }

    enum CodingKeys: String, CodingKey { case id, build, key, enqueuedAt, background }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(BuildID.self, forKey: .id)
        build = try c.decode(ResolvedBuild.self, forKey: .build)
        key = try c.decode(CacheKey.self, forKey: .key)
        enqueuedAt = try c.decode(Date.self, forKey: .enqueuedAt)
        background = try c.decodeIfPresent(Bool.self, forKey: .background) ?? false  // jobs queued by earlier versions
    }

    /// The first lines of every build's log, written when it is queued (in process or on
    /// Redis): what will be built, with which toolchain, and each plugin's exact version.
    public var queuedEvents: [BuildEvent] {
        [BuildEvent(step: .queued, stream: .info, text: "build \(id) queued: Caddy \(build.caddyVersion) for \(build.platform), \(build.settings.goVersion)")]
            + build.plugins.map { plugin in
                BuildEvent(step: .resolve, stream: .info, text: "plugin \(plugin.path) \(plugin.module)@\(plugin.version)" + (plugin.replacement.map { " => \($0)" } ?? ""))
            }
    }
}
