import BuildCore
import CacheStore
import GoProxyClient
import GoToolchain
import HTTPFront
import HummingbirdWebSocket
import QueueRedis
import ServiceLifecycle
import UnixSignals

/// On graceful shutdown (it is shut down first, being last in the group), refuses new
/// builds and cancels the running ones, so waiting requests end and the server can stop.
struct BuildShutdown: Service {
    let builds: any BuildService
    func run() async throws {
        try? await gracefulShutdown()
        await builds.shutdown()
    }
}
