import HTTP1

/// A route's `prefixRewrite`: replaces the matched prefix of the path (docs/configuration.md, "routes[]").
///
/// The rest of the path is joined to the rewrite with exactly one slash: under prefix `/users`
/// (or `/users/`) with rewrite `/`, `/users/42` becomes `/42`; with rewrite `/v2/users` it becomes
/// `/v2/users/42`. When nothing is left the result is the rewrite itself; `/users/` under prefix
/// `/users` leaves `/`, so the result is the rewrite with a trailing slash. Never empty.
/// For a `path` route the whole path is the prefix, so the result is always the rewrite.
public struct PathRewrite: Sendable, Equatable {
    /// The matched prefix (a `pathPrefix`, or the exact `path`).
    public let prefix: [UInt8]
    /// What replaces it; starts with `/`.
    public let replacement: [UInt8]

    /// A rewrite of `prefix` into `replacement`; `replacement` must start with `/`.
    public init(prefix: String, replacement: String) {
        precondition(replacement.hasPrefix("/"), "a prefix rewrite must start with '/'")
        self.prefix = Array(prefix.utf8)
        self.replacement = Array(replacement.utf8)
    }

    /// The route's rewrite, or nil when it has no `prefixRewrite`.
    public init?(route: RouteConfig) {
        guard let rewrite = route.prefixRewrite else { return nil }
        self.init(prefix: route.match.path.value, replacement: rewrite)
    }

    /// Appends the rewritten path, then `?query` when `query` is non-nil (`query` excludes the `?`).
    ///
    /// `path` is the normalized path the route matched, so it starts with ``prefix``; a path that
    /// does not is appended unchanged.
    public func apply(path: UnsafeRawBufferPointer, query: UnsafeRawBufferPointer?, to target: inout [UInt8])
    {
        guard path.count >= prefix.count, path.starts(with: prefix) else {
            PathRewrite.appendUnchanged(path: path, query: query, to: &target)
            return
        }
        let rest = UnsafeRawBufferPointer(rebasing: path[prefix.count...])
        if rest.isEmpty {
            target.append(contentsOf: replacement)
        } else {
            let replacementEndsInSlash = replacement.last == ASCII.slash
            let restStartsWithSlash = rest.first == ASCII.slash
            if replacementEndsInSlash && restStartsWithSlash {
                target.append(contentsOf: replacement.dropLast())
            } else {
                target.append(contentsOf: replacement)
                if !replacementEndsInSlash && !restStartsWithSlash {
                    target.append(ASCII.slash)
                }
            }
            target.append(contentsOf: rest)
        }
        PathRewrite.appendQuery(query, to: &target)
    }

    /// The rewritten target as a string, for the admin `/route` endpoint and tests.
    public func apply(path: String, query: String? = nil) -> String {
        var target: [UInt8] = []
        let pathBytes = Array(path.utf8)
        let queryBytes = query.map { Array($0.utf8) }
        pathBytes.withUnsafeBytes { pathBuffer in
            if let queryBytes {
                queryBytes.withUnsafeBytes { apply(path: pathBuffer, query: $0, to: &target) }
            } else {
                apply(path: pathBuffer, query: nil, to: &target)
            }
        }
        return String(decoding: target, as: UTF8.self)
    }

    /// Appends `path`, then `?query` when `query` is non-nil: the target of a route without rewrite.
    public static func appendUnchanged(
        path: UnsafeRawBufferPointer, query: UnsafeRawBufferPointer?, to target: inout [UInt8]
    ) {
        target.append(contentsOf: path)
        appendQuery(query, to: &target)
    }

    private static func appendQuery(_ query: UnsafeRawBufferPointer?, to target: inout [UInt8]) {
        guard let query else { return }
        target.append(UInt8(ascii: "?"))
        target.append(contentsOf: query)
    }
}
