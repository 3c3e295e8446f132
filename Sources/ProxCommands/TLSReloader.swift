import BuildCore
import CacheStore
import GoProxyClient
import GoToolchain
import HTTPFront
import HummingbirdWebSocket
import Logging
import QueueRedis
import ServiceLifecycle
import UnixSignals

/// On SIGHUP, loads the TLS certificate and key again (after a renewal); a failure is
/// logged and the certificate in use stays. Without TLS, SIGHUP is only logged (it never
/// ends proxhub, so `systemctl reload` is safe on any proxhub unit).
struct TLSReloader: Service {
    let tls: ServerTLS?
    let logger: Logger
    func run() async throws {
        let signals = await UnixSignalsSequence(trapping: .sighup)
        await cancelWhenGracefulShutdown {
            for await _ in signals {
                guard let tls else {
                    logger.notice("SIGHUP: nothing to reload (no --tls-cert)")
                    continue
                }
                do throws(ProxError) {
                    try tls.reload()
                    logger.notice("reloaded the TLS certificate", metadata: ["cert": "\(tls.certificatePath)"])
                } catch {
                    logger.error("cannot reload the TLS certificate: the one in use stays", metadata: ["error": "\(error.message)"])
                }
            }
        }
    }
}
