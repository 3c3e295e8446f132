

/// Prox's toolchain rule (see docs/operations.md, "Toolchains"):
///
/// 1. `--go-version` pins one toolchain: used for every build that does not need a newer Go.
/// 2. With no `go` line anywhere, the default (first local) toolchain.
/// 3. Otherwise the newest patch release of the needed minor version (`1.N`) that is at
///    least the need, local or downloadable (security fixes; local wins a tie).
/// 4. If that minor has no such release (older than 1.21, or a proxy without it), the newest
///    release of the lowest minor above it: never older than needed, and never a newer
///    minor than needed when the needed one exists (new Go breaks old Caddy).
/// 5. Nothing at or above the need: `.toolchainUnavailable`, naming the module, the
///    version, what is available and the flags that would fix it.
public enum ToolchainRule {
    public static func choose(need: GoRequirement?, offer: ToolchainOffer) throws(ProxError) -> ToolchainChoice {
        let available = offer.available
        func source(_ v: GoVersion) -> ToolchainChoice.Source { offer.local.contains(v) ? .local : .download }

        if let pinned = offer.pinned {
            if let need, need.version > pinned {
                throw ProxError(
                    .toolchainUnavailable,
                    "\(need.module) needs go >= \(need.version), but this server pins \(pinned.toolchainName) for every build (--go-version): "
                        + "raise or remove --go-version"
                )
            }
            guard offer.local.contains(pinned) || offer.downloadsAllowed else {
                throw ProxError(
                    .toolchainUnavailable,
                    "\(pinned.toolchainName) (--go-version) is not a local toolchain and downloads are off (--toolchain-download=false): "
                        + "give its go command with --go, or allow downloads"
                )
            }
            return ToolchainChoice(version: pinned, source: source(pinned), requirement: need, reason: "\(pinned.toolchainName) is pinned by --go-version")
        }

        guard let need else {
            if let first = offer.local.first {
                return ToolchainChoice(version: first, source: .local, requirement: nil, reason: "no go.mod has a go line: the default toolchain")
            }
            guard let newest = available.max() else { throw nothingAvailable(offer) }
            return ToolchainChoice(version: newest, source: source(newest), requirement: nil, reason: "no go.mod has a go line: the newest toolchain")
        }

        let sameMinor = available.filter { $0.minor == need.version.minor && $0 >= need.version }
        if let best = sameMinor.max() {
            return ToolchainChoice(
                version: best, source: source(best), requirement: need,
                reason: "\(need): the newest go1.\(need.version.minor) release" + (source(best) == .download ? " (downloaded through the module proxy)" : "")
            )
        }
        let above = available.filter { $0.minor > need.version.minor }
        if let lowestMinor = above.map(\.minor).min(), let best = above.filter({ $0.minor == lowestMinor }).max() {
            return ToolchainChoice(
                version: best, source: source(best), requirement: need,
                reason: "\(need); no go1.\(need.version.minor) release is available, so the newest release of the next minor, go1.\(lowestMinor)"
                    + (source(best) == .download ? " (downloaded through the module proxy)" : "")
            )
        }
        throw ProxError(.toolchainUnavailable, "\(need), and no toolchain at or above it is available: \(describe(offer)); " + remedy(offer))
    }

    static func nothingAvailable(_ offer: ToolchainOffer) -> ProxError {
        ProxError(.toolchainUnavailable, "no Go toolchain is available: \(describe(offer)); " + remedy(offer))
    }

    /// `local go1.22.12; downloadable go1.21.13 ... go1.23.5 through <proxy>`.
    static func describe(_ offer: ToolchainOffer) -> String {
        var parts: [String] = []
        parts.append(offer.local.isEmpty ? "no local toolchain" : "local " + offer.local.map(\.toolchainName).joined(separator: ", "))
        if !offer.downloadsAllowed {
            parts.append("downloads off (--toolchain-download=false)")
        } else if offer.downloadable.isEmpty {
            parts.append("the module proxy \(offer.proxy) lists no golang.org/toolchain release for this host")
        } else {
            let sorted = offer.downloadable.sorted()
            let range = sorted.count == 1 ? sorted[0].toolchainName : "\(sorted.first!.toolchainName) to \(sorted.last!.toolchainName)"
            parts.append("downloadable \(range) through \(offer.proxy)")
        }
        return parts.joined(separator: "; ")
    }

    static func remedy(_ offer: ToolchainOffer) -> String {
        if !offer.downloadsAllowed {
            return "allow downloads (--toolchain-download=true) or add a newer Go with --go"
        }
        return "add a newer Go with --go, or use a module proxy that serves golang.org/toolchain (--goproxy)"
    }
}
