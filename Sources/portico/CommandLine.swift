/// What the command line asks for (README.md, "Command line").
enum Command: Equatable {
    case run(configPath: String)
    /// `diff`: also show what a reload of the file would change in the running gateway.
    case check(configPath: String, diff: Bool)
    case echo(listen: String, name: String)
    case version
    case help
}

/// A command line that does not parse; printed with the usage, exit status 2.
struct UsageError: Error {
    let message: String
}

enum CommandLineParser {
    static let usage = """
        usage: portico [--config PATH]          run; PATH defaults to ./gateway.json
               portico --check [--config PATH]  validate the configuration and exit
               portico --check --diff [--config PATH]
                                                also show what a reload of it would change in
                                                the running gateway (asks its admin endpoint)
               portico echo --listen ADDR [--name NAME]
                                                a tiny upstream for demos and tests
               portico --version | --help
        """

    static func parse(_ arguments: [String]) throws(UsageError) -> Command {
        var rest = arguments[...]
        if rest.first == "echo" {
            rest.removeFirst()
            var listen: String?
            var name = "echo"
            while let flag = rest.popFirst() {
                switch flag {
                case "--listen": listen = try value(after: flag, &rest)
                case "--name": name = try value(after: flag, &rest)
                default: throw UsageError(message: "unknown argument for echo: \(flag)")
                }
            }
            guard let listen else { throw UsageError(message: "echo needs --listen ADDR") }
            return .echo(listen: listen, name: name)
        }
        var configPath = "gateway.json"
        var check = false
        var diff = false
        while let flag = rest.popFirst() {
            switch flag {
            case "--config": configPath = try value(after: flag, &rest)
            case "--check": check = true
            case "--diff": diff = true
            case "--version": return .version
            case "--help", "-h": return .help
            default: throw UsageError(message: "unknown argument: \(flag)")
            }
        }
        guard !diff || check else { throw UsageError(message: "--diff goes with --check") }
        return check ? .check(configPath: configPath, diff: diff) : .run(configPath: configPath)
    }

    private static func value(after flag: String, _ rest: inout ArraySlice<String>) throws(UsageError)
        -> String
    {
        guard let value = rest.popFirst(), !value.hasPrefix("--") else {
            throw UsageError(message: "\(flag) needs a value")
        }
        return value
    }
}
