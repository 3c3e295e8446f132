import BuildCore
import Logging
import NIOSSL
import Synchronization

/// The server's TLS certificate and key (`--tls-cert`, `--tls-key`, PEM), loaded at start
/// and again by ``reload()`` (proxhub does on SIGHUP): new connections get the new
/// certificate, connections already open keep theirs, and a reload that fails keeps the
/// certificate that works.
public final class ServerTLS: Sendable {
    public let certificatePath: String
    public let keyPath: String
    private let context: Mutex<NIOSSLContext>

    /// Loads both files; an error names the flag and what is wrong (no key material).
    public init(certificate: String, key: String) throws(ProxError) {
        certificatePath = certificate
        keyPath = key
        context = Mutex(try Self.load(certificate: certificate, key: key))
    }

    /// The context new connections use.
    var current: NIOSSLContext { context.withLock { $0 } }

    /// Reads the files again; on an error the current certificate stays in use.
    public func reload() throws(ProxError) {
        let fresh = try Self.load(certificate: certificatePath, key: keyPath)
        context.withLock { $0 = fresh }
    }

    static func load(certificate: String, key: String) throws(ProxError) -> NIOSSLContext {
        let chain: [NIOSSLCertificate]
        do {
            chain = try NIOSSLCertificate.fromPEMFile(certificate)
        } catch {
            throw ProxError(.internal, "--tls-cert \(certificate): not a readable PEM certificate chain (\(error))")
        }
        guard !chain.isEmpty else { throw ProxError(.internal, "--tls-cert \(certificate): no certificate in the file") }
        let privateKey: NIOSSLPrivateKey
        do {
            privateKey = try NIOSSLPrivateKey(file: key, format: .pem)
        } catch {
            throw ProxError(.internal, "--tls-key \(key): not a readable PEM private key")
        }
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(privateKey)
        )
        configuration.minimumTLSVersion = .tlsv12
        configuration.applicationProtocols = ["http/1.1"]
        do {
            return try NIOSSLContext(configuration: configuration)
        } catch {
            throw ProxError(.internal, "--tls-cert/--tls-key: the certificate and key do not make a TLS context (do they belong together?): \(error)")
        }
    }
}
