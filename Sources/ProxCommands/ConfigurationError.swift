import ArgumentParser
import BuildCore
import HTTPFront

/// A configuration problem, reported at start-up naming the flag and its variable.
public struct ConfigurationError: Error, CustomStringConvertible, Equatable {
    public let description: String
    init(_ description: String) { self.description = description }
}
