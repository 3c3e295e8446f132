import BuildCore

/// What every copy of one ``GoToolchainRunner`` shares: the local toolchains (asked once)
/// and the toolchain downloads in flight (one per version).
actor ToolchainState {
    private(set) var locals: [GoToolchainRunner.LocalToolchain]?
    private var downloads: [String: Task<Void, any Error>] = [:]

    func setLocals(_ value: [GoToolchainRunner.LocalToolchain]) { locals = value }

    /// The download of `version`: the one in flight, or a new one made by `start`
    /// (`started` tells which). A failed download is forgotten, so a later build retries.
    func download(_ version: String, start: () -> Task<Void, any Error>) -> (task: Task<Void, any Error>, started: Bool) {
        if let running = downloads[version] { return (running, false) }
        let task = start()
        downloads[version] = task
        Task { [weak self] in
            _ = try? await task.value
            await self?.forget(version, task)
        }
        return (task, true)
    }

    /// A finished download is forgotten: its files are in GOMODCACHE (later builds find
    /// them there), or it failed and the next build that needs it tries again.
    private func forget(_ version: String, _ task: Task<Void, any Error>) {
        if downloads[version] == task { downloads[version] = nil }
    }
}
