import Foundation

/// Replaces the server's own paths in build output with placeholders, so logs and error
/// messages shown to clients never reveal the server's file layout.
struct PathScrubber: Sendable {
    let replacements: [(String, String)]

    init(workDirectory: String, configuration: GoToolchainRunner.Configuration) {
        var pairs: [(String, String)] = [
            (workDirectory, "."),
            (configuration.moduleCache, "$GOMODCACHE"),
            (configuration.buildCache, "$GOCACHE"),
            (configuration.workDirectory, "$WORK"),
        ]
        // Go prints module files relative to the build directory: ../../go/mod/...
        let from = workDirectory.split(separator: "/"), to = configuration.moduleCache.split(separator: "/")
        let common = zip(from, to).prefix { $0 == $1 }.count
        let relative = Array(repeating: "..", count: from.count - common) + to.dropFirst(common).map(String.init)
        if common > 0, relative.first == ".." { pairs.insert((relative.joined(separator: "/"), "$GOMODCACHE"), at: 0) }
        replacements = pairs.filter { $0.0.count > 1 }.sorted { $0.0.count > $1.0.count }
    }

    func callAsFunction(_ line: String) -> String {
        var out = line
        for (path, placeholder) in replacements where out.contains(path) {
            out = out.replacingOccurrences(of: path, with: placeholder)
        }
        return out
    }
}
