
/// A plugin with its exact version: the package path that `main.go` imports, the module
/// that provides it and the version of that module.
public struct ResolvedModule: Hashable, Sendable, Codable, CustomStringConvertible {
    public let path: String
    public let module: String
    public let version: SemanticVersion
    public let replacement: ModuleSpec.Replacement?

    public init(path: String, module: String, version: SemanticVersion, replacement: ModuleSpec.Replacement? = nil) {
        self.path = path
        self.module = module
        self.version = version
        self.replacement = replacement
    }

    public var description: String { "\(path)@\(version)" + (replacement.map { "=\($0)" } ?? "") }
}
