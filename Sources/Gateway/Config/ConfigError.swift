/// One problem in a configuration file: the json path of the offending value and what is wrong.
public struct ConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Where the problem is, written like `upstreams.users.servers[0].weight` or `routes[2].upstream`;
    /// empty for problems with the file as a whole (such as a JSON syntax error).
    public var path: String
    /// What is wrong, e.g. `unknown upstream "userz"`.
    public var message: String

    /// Creates an error for a json path.
    public init(path: String, message: String) {
        self.path = path
        self.message = message
    }

    /// `path: message`, or just the message when the path is empty.
    public var description: String {
        path.isEmpty ? message : "\(path): \(message)"
    }
}

/// Every problem found in a configuration file, in file order.
public struct ConfigErrors: Error, Sendable, Equatable, CustomStringConvertible {
    /// The problems, sorted by where they appear in the file.
    public var errors: [ConfigError]

    /// Creates a collection of problems.
    public init(_ errors: [ConfigError]) {
        self.errors = errors
    }

    /// One problem per line, as `portico --check` prints them.
    public var description: String {
        errors.map(\.description).joined(separator: "\n")
    }
}
