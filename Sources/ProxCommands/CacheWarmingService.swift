import BuildCore
import ServiceLifecycle

/// Runs ``CacheWarmer/check(now:)`` at start and then every `--warm-interval`, until
/// graceful shutdown (a warm build in progress is cancelled with the others).
struct CacheWarmingService: Service {
    let warmer: CacheWarmer
    let interval: Duration

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                _ = await warmer.check()
                try? await Task.sleep(for: interval)
            }
        }
    }
}
