import BuildCore

enum RequestIdentifier {
    /// `req-` and 12 hex digits: the id of an error that belongs to no build.
    static func make() -> String {
        "req-" + BuildID.random().rawValue.prefix(12)
    }
}
