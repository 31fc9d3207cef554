/// A route's conditions (`routes[i].match`); a request matches when every one holds.
public struct RouteMatchConfig: Sendable, Equatable {
    /// Host condition; nil (the default) matches any host.
    public var host: HostPattern?
    /// Path condition; `pathPrefix: "/"` (any path) by default.
    public var path: PathPattern
    /// Allowed methods (case-sensitive, RFC 9110 §9.1), in file order without duplicates;
    /// nil (the default) allows any.
    public var methods: [String]?
    /// Header conditions: exact values, names case-insensitive; none by default.
    public var headers: [ConfigHeaderField]

    /// Creates match conditions with the documented defaults (docs/configuration.md).
    public init(
        host: HostPattern? = nil,
        path: PathPattern = .prefix("/"),
        methods: [String]? = nil,
        headers: [ConfigHeaderField] = []
    ) {
        self.host = host
        self.path = path
        self.methods = methods
        self.headers = headers
    }
}

/// A route's host condition, stored lowercased.
public enum HostPattern: Sendable, Hashable, CustomStringConvertible {
    /// An exact host such as `api.example.com` or `[::1]`.
    case exact(String)
    /// `*.<domain>`: any subdomain of `domain`, at any depth, but not `domain` itself.
    case wildcard(domain: String)

    /// The pattern as it would be written in the configuration.
    public var description: String {
        switch self {
        case .exact(let host): return host
        case .wildcard(let domain): return "*." + domain
        }
    }
}

/// A route's path condition.
public enum PathPattern: Sendable, Hashable, CustomStringConvertible {
    /// `path`: the normalized path equals this.
    case exact(String)
    /// `pathPrefix`: segment-aware prefix (docs/configuration.md, "routes[]").
    case prefix(String)

    /// The path or prefix as written.
    public var value: String {
        switch self {
        case .exact(let path), .prefix(let path): return path
        }
    }

    /// `path /x` or `pathPrefix /x`.
    public var description: String {
        switch self {
        case .exact(let path): return "path \(path)"
        case .prefix(let prefix): return "pathPrefix \(prefix)"
        }
    }
}

/// A header field name and value as written in the configuration.
public struct ConfigHeaderField: Sendable, Hashable {
    /// The field name as written; compare case-insensitively.
    public var name: String
    /// The field value.
    public var value: String

    /// Creates a field.
    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}
