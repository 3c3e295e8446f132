

/// An error of ``BuildService/obtain(_:requestedID:client:)``, with the build it belongs to.
public struct BuildFailure: Error, Sendable {
    public let error: ProxError
    /// The build started or joined for the request; nil when none was.
    public let buildID: BuildID?

    public init(_ error: ProxError, buildID: BuildID?) {
        self.error = error
        self.buildID = buildID
    }
}
