
/// The Go module proxy protocol as resolution needs it (`$GOPROXY/<module>/@v/list`,
/// `@v/<version>.info`, `@v/<version>.mod`, `@latest`), over a GOPROXY list.
///
/// Contract: every method answers nil when no proxy in the list knows the thing asked for
/// ("not found" from each entry), and throws ``ProxError`` `.upstreamUnavailable` when an
/// entry that had to answer could not (unreachable, a 5xx, an unreadable document). Module
/// paths and versions are passed unescaped; the client applies ``GoProxyFormat/escape(_:)``.
///
/// `GoProxyClient.ModuleProxy` is the HTTP and `file://` implementation; `ProxTesting`
/// has an in-memory one.
public protocol ModuleProxyClient: Sendable {
    /// The GOPROXY list as configured. It may carry credentials: show it with
    /// ``GoProxyFormat/displayed(_:)``.
    var goproxy: String { get }

    /// The versions listed by `@v/list`, or nil if no proxy knows the module.
    func versionList(module: String) async throws(ProxError) -> [String]?
    /// `@v/<version>.info`'s `Version`, or nil if no proxy has that version of the module.
    func info(module: String, version: String) async throws(ProxError) -> String?
    /// The `go.mod` of `module@version` (`@v/<version>.mod`), or nil if no proxy has it.
    func goMod(module: String, version: String) async throws(ProxError) -> String?
    /// `@latest`'s `Version`, or nil if no proxy answers it.
    func latest(module: String) async throws(ProxError) -> String?
}
