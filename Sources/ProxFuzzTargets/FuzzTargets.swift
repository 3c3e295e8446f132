import BuildCore
import Foundation

/// The parsers of untrusted input, as fuzz targets (issue 11): a download query's fields,
/// a `p=` package, a semantic version, a Go version, a go.mod file, a module proxy's
/// `.info` and `@v/list` documents, the package catalog's JSON. Each takes arbitrary bytes; bad input must end in a
/// `ProxError` or nil, never a crash, and what parses must keep its invariants (checked
/// with `precondition`: a failure is a finding). `prox-fuzz` runs them under libFuzzer
/// (scripts/fuzz.sh), and the unit tests replay the corpus in Fuzz/corpus.
public enum FuzzTargets {
    public static let names = ["query", "modulespec", "semver", "goversion", "gomod", "info", "list", "catalog"]

    /// Runs target `name` on `data`; false for an unknown name.
    @discardableResult
    public static func run(_ name: String, _ data: [UInt8]) -> Bool {
        let text = String(decoding: data, as: UTF8.self)
        switch name {
        case "query": query(data)
        case "modulespec": moduleSpec(text)
        case "semver": semanticVersion(text)
        case "goversion": goVersion(text)
        case "gomod": _ = GoModFile(text)
        case "info": _ = try? GoProxyFormat.decodeInfo(data, what: "fuzz")
        case "list": versionList(data)
        case "catalog": catalog(data)
        default: return false
        }
        return true
    }

    /// A download query: `name=value` pairs separated by `&`, percent-decoded as the HTTP
    /// layer does, into the same initializer `/api/download` calls.
    static func query(_ data: [UInt8]) {
        let text = String(decoding: data, as: UTF8.self)
        var fields: [String: String] = [:]
        var packages: [String] = []
        for pair in text.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = String(parts[0]).removingPercentEncodingOrSelf
            let value = parts.count > 1 ? String(parts[1]).removingPercentEncodingOrSelf : ""
            if name == "p" || name == "p[]" { packages.append(value) } else { fields[name] = value }
        }
        for policy in [BuildRequest.Policy(), BuildRequest.Policy(allowReplacements: true)] {
            guard
                let request = try? BuildRequest(
                    os: fields["os"], arch: fields["arch"], arm: fields["arm"], packages: packages, version: fields["version"],
                    caddyVersion: fields["caddy_version"], policy: policy
                )
            else { continue }
            // What is accepted is what a build would be asked for: each package spells itself
            // back to the same package.
            for plugin in request.plugins {
                let again = try? ModuleSpec(parsing: plugin.description)
                precondition(again == plugin, "\(plugin.description) does not parse back to itself")
            }
            precondition(Platform.all.contains(request.platform), "an accepted platform is one of Platform.all: \(request.platform)")
        }
    }

    static func moduleSpec(_ text: String) {
        guard let spec = try? ModuleSpec(parsing: text) else { return }
        precondition(!spec.path.isEmpty && !spec.path.contains(" ") && !spec.path.contains(".."), "an accepted path is clean: \(spec.path)")
        let again = try? ModuleSpec(parsing: spec.description)
        precondition(again == spec, "\(spec.description) does not parse back to itself")
    }

    static func semanticVersion(_ text: String) {
        guard let version = SemanticVersion(text) else {
            _ = SemanticVersion(normalizing: text)
            return
        }
        precondition(SemanticVersion(version.description) == version, "\(version) does not parse back to itself")
        precondition(!(version < version), "\(version) < itself")
        if let other = SemanticVersion(normalizing: text) { precondition(!(other < other)) }
    }

    static func goVersion(_ text: String) {
        guard let version = GoVersion(text) else { return }
        precondition(!(version < version), "\(version) < itself")
        if version.isRelease { precondition(GoVersion(version.toolchainName) == version, "\(version.toolchainName) does not parse back") }
    }

    /// A package catalog document (`--package-endpoint`): each package's path may then be
    /// asked for as a `p=` package, which must not crash either.
    static func catalog(_ data: [UInt8]) {
        guard let packages = try? CatalogPackage.parseCatalog(data) else { return }
        precondition(packages.allSatisfy { !$0.path.isEmpty })
        for package in packages.prefix(64) { moduleSpec(package.path) }
    }

    static func versionList(_ data: [UInt8]) {
        let list = GoProxyFormat.parseVersionList(data)
        precondition(list.allSatisfy { !$0.isEmpty && $0 == $0.trimmingCharacters(in: .whitespaces) })
        let versions = list.compactMap { SemanticVersion($0) }.sorted()
        precondition(zip(versions, versions.dropFirst()).allSatisfy { !($1 < $0) }, "sorted versions are in order")
        _ = ToolchainModule.releases(inList: list)
    }
}

extension String {
    /// Percent-decoded, or unchanged when the escapes are not valid UTF-8.
    var removingPercentEncodingOrSelf: String { replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? self }
}
