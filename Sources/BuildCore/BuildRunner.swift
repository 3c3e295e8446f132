/// Builds one ``ResolvedBuild`` into an executable file.
///
/// Contract:
/// - `build` writes the executable to `output` (a path in a directory the caller owns), and
///   returns only when the file is complete and checked; on any failure it throws a
///   ``ProxError`` (`.buildFailed` with the compiler's message, `.buildTimedOut`,
///   `.cancelled`, `.invalidArtifact`) and leaves nothing of its own behind, nothing at
///   `output` either.
/// - Every line the toolchain prints is sent to `events`, tagged with its step.
/// - Task cancellation stops the build promptly, child processes included.
public protocol BuildRunner: Sendable {
    /// The toolchain identity and flags this runner builds with (part of every cache key).
    func settings() async throws(ProxError) -> BuildSettings

    func build(_ build: ResolvedBuild, output: String, events: @escaping BuildEventSink) async throws(ProxError)
}
