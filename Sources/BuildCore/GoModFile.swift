import Foundation

/// The parts of a `go.mod` file that choose a toolchain: the `module` path, the `go` and
/// `toolchain` lines, and the `require` lines (https://go.dev/ref/mod#go-mod-file).
/// Everything else is skipped.
public struct GoModFile: Sendable, Equatable {
    public let module: String
    /// The `go` line: the minimum Go the module needs. Nil when absent (Go then assumes 1.16).
    public let go: GoVersion?
    /// The `toolchain` line (`go1.23.4`): the toolchain the module's authors suggest.
    public let toolchain: GoVersion?
    /// The `require` lines: module path and version (`// indirect` ones included).
    public let requires: [(path: String, version: SemanticVersion)]

    /// The Go this module asks for: the higher of its `go` and `toolchain` lines.
    public var need: GoVersion? { [go, toolchain].compactMap { $0 }.max() }

    /// Parses `text`; nil when it is not a go.mod file (no `module` line, a malformed `go`
    /// or `toolchain` line, binary data): a proxy answering garbage must not choose a toolchain.
    public init?(_ text: String) {
        guard text.utf8.count <= 16 << 20, !text.utf8.contains(0) else { return nil }
        var module: String?
        var go: GoVersion?
        var toolchain: GoVersion?
        var requires: [(path: String, version: SemanticVersion)] = []
        var block: Substring?
        func require(_ words: ArraySlice<Substring>) -> Bool {
            guard words.count == 2, let version = SemanticVersion(String(words[words.startIndex + 1])) else { return false }
            requires.append((String(words[words.startIndex]).trimmingQuotes, version))
            return true
        }
        for rawLine in text.split(omittingEmptySubsequences: true, whereSeparator: \.isNewline) {
            var line = Substring(rawLine)
            if let comment = line.range(of: "//") { line = line[..<comment.lowerBound] }
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard let first = words.first else { continue }
            if let kind = block {
                if first == ")" {
                    block = nil
                } else if kind == "require", !require(words[...]) {
                    return nil
                }
                continue
            }
            if words.count == 2, words.last == "(" {
                block = first
                continue
            }
            switch first {
            case "module":
                guard words.count == 2 else { return nil }
                module = String(words[1]).trimmingQuotes
            case "go":
                guard words.count == 2, let v = GoVersion(String(words[1])), !String(words[1]).hasPrefix("go") else { return nil }
                go = v
            case "toolchain":
                guard words.count == 2, String(words[1]).hasPrefix("go") || words[1] == "default" else { return nil }
                if words[1] != "default" {
                    guard let v = GoVersion(String(words[1])) else { return nil }
                    toolchain = v
                }
            case "require":
                guard require(words.dropFirst()) else { return nil }
            default:
                continue  // replace, exclude, retract, godebug, tool, and directives to come
            }
        }
        guard let module, !module.isEmpty else { return nil }
        self.module = module
        self.go = go
        self.toolchain = toolchain
        self.requires = requires
    }

    public static func == (a: GoModFile, b: GoModFile) -> Bool {
        a.module == b.module && a.go == b.go && a.toolchain == b.toolchain
            && a.requires.map { "\($0.path)@\($0.version)" } == b.requires.map { "\($0.path)@\($0.version)" }
    }
}

extension String {
    fileprivate var trimmingQuotes: String {
        if count >= 2, first == "\"", last == "\"" { return String(dropFirst().dropLast()) }
        return self
    }
}
