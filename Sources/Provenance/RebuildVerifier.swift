import BuildCore
import FileIO
import Foundation
import Logging

/// Proves builds reproducible (`--verify-rebuilds FRACTION`): for a fraction of new
/// artifacts it builds the same ``ResolvedBuild`` again, one at a time, in a new directory
/// with empty Go caches, and compares the SHA-256. The result is kept with the artifact's
/// provenance (``SignedProvenance/reproduction``); a mismatch is logged as an error with
/// both digests.
public actor RebuildVerifier {
    /// The share of new artifacts rebuilt, 0 to 1.
    public let fraction: Double
    let store: any AttestationStore
    /// A runner whose work directory and Go caches are all under the directory given.
    let makeRunner: @Sendable (_ root: String) -> any BuildRunner
    /// Where rebuilds run (each in a directory of its own, removed after).
    let scratch: String
    let logger: Logger
    private var queue: [ArtifactRecord] = []
    private var worker: Task<Void, Never>?
    private var random: @Sendable () -> Double

    public init(
        fraction: Double, store: any AttestationStore, scratch: String, logger: Logger,
        random: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) },
        makeRunner: @escaping @Sendable (_ root: String) -> any BuildRunner
    ) {
        self.fraction = min(1, max(0, fraction))
        self.store = store
        self.scratch = scratch
        self.logger = logger
        self.random = random
        self.makeRunner = makeRunner
        Self.remove(scratch)  // rebuilds a stop interrupted
    }

    /// Picks `artifact` for a rebuild with probability ``fraction``; returns at once.
    public func consider(_ artifact: ArtifactRecord) async {
        guard fraction > 0, random() < fraction else { return }
        await mark(artifact.key, Reproduction(state: .pending))
        queue.append(artifact)
        if worker == nil {
            worker = Task(priority: .background) { await self.drain() }
        }
    }

    /// Waits until every rebuild asked for has finished (tests, shutdown).
    public func idle() async {
        // `drain` clears `worker` when it ends; a rebuild asked for meanwhile starts another.
        while let worker { await worker.value }
    }

    private func drain() async {
        while !queue.isEmpty, !Task.isCancelled {
            let artifact = queue.removeFirst()
            await mark(artifact.key, await rebuild(artifact))
        }
        worker = nil
    }

    /// Builds `artifact`'s build again from scratch and compares.
    func rebuild(_ artifact: ArtifactRecord) async -> Reproduction {
        let root = scratch + "/\(artifact.key.hex.prefix(16))-\(UUID().uuidString.prefix(8))"
        defer { Self.remove(root) }
        do {
            try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        } catch {
            return Reproduction(state: .failed, checkedAt: Date(), detail: "cannot make \(root): \(error)")
        }
        let output = root + "/rebuild" + artifact.build.platform.executableSuffix
        do {
            try await makeRunner(root).build(artifact.build, output: output, events: { _ in })
            let (digest, _) = try await FileDigest.sha256(ofFileAt: output)
            if digest == artifact.digest {
                logger.info("rebuilt from scratch to the same bytes", metadata: ["key": "\(artifact.key.hex)", "sha256": "\(digest)"])
                return Reproduction(state: .reproduced, rebuildDigest: digest, checkedAt: Date())
            }
            logger.error(
                "NOT REPRODUCIBLE: a rebuild from scratch gave other bytes",
                metadata: ["key": "\(artifact.key.hex)", "sha256": "\(artifact.digest)", "rebuild": "\(digest)", "build": "\(artifact.build.downloadPath)"]
            )
            return Reproduction(state: .differs, rebuildDigest: digest, checkedAt: Date())
        } catch {
            logger.warning("the rebuild to check reproducibility failed", metadata: ["key": "\(artifact.key.hex)", "error": "\(error.message)"])
            return Reproduction(state: .failed, checkedAt: Date(), detail: error.message)
        }
    }

    /// Removes a rebuild's directory. The go command makes its module cache read-only, so
    /// its directories are made writable first.
    static func remove(_ root: String) {
        let files = FileManager.default
        if let walk = files.enumerator(atPath: root) {
            while let path = walk.nextObject() as? String {
                let full = root + "/" + path
                var isDirectory: ObjCBool = false
                if files.fileExists(atPath: full, isDirectory: &isDirectory), isDirectory.boolValue {
                    try? files.setAttributes([.posixPermissions: 0o755], ofItemAtPath: full)
                }
            }
        }
        try? files.removeItem(atPath: root)
    }

    private func mark(_ key: CacheKey, _ reproduction: Reproduction) async {
        guard var signed = try? await store.attestation(for: key) else { return }
        signed.reproduction = reproduction
        try? await store.saveAttestation(signed, for: key)
    }
}
