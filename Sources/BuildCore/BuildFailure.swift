

/// An error of ``BuildService/obtain(_:requestedID:client:)``, with the build it belongs to.
public struct BuildFailure: Error, Sendable {
    public let error: ProxError
    /// The build started or joined for the request; nil when none was.
    public let buildID: String?

    public init(_ error: ProxError, buildID: String?) {
        self.error = error
        self.buildID = buildID
    }
}
