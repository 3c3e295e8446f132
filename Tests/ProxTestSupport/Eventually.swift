/// Polls `condition` every `interval` until it holds; false if `timeout` passes first.
public func eventually(
    timeout: Duration = .seconds(120), interval: Duration = .milliseconds(10), _ condition: () async throws -> Bool
) async rethrows -> Bool {
    let deadline = ContinuousClock.now.advanced(by: timeout)
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: interval)
    }
    return false
}
