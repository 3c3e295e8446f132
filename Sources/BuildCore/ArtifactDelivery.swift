/// Hands a finished artifact from the build host that made it (a `proxagent`) to the hub.
/// Returns the hub URL where it now lives (recorded as the build's `origin`, so other hubs
/// can fetch it from there). `ProxCommands`' `HubUploader` pushes over HTTP.
///
/// Contract: returns only when the hub has committed the artifact to its cache after
/// checking `digest`; throws `.unavailable` for failures worth retrying (hub down,
/// timeouts) and any other kind for failures that will not go away by retrying (bad
/// credentials, digest refused).
public protocol ArtifactDelivery: Sendable {
    func deliver(_ job: BuildJob, file: String, digest: String, size: Int64) async throws(ProxError) -> String
}
