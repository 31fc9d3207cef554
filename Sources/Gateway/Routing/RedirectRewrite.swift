import HTTP1

/// Maps response `Location` and `Content-Location` values back through a route's rewrites, so
/// a redirect from the upstream does not lead the client out of the route (as nginx's
/// `proxy_redirect default`; docs/configuration.md, `redirectRewrite`).
///
/// The client-facing prefix P is the route's `match.pathPrefix` (or its exact `match.path`);
/// the upstream prefix R is its `prefixRewrite`. A path under R (segment-aware: R `/v2` covers
/// `/v2` and `/v2/x`, not `/v2x`; R `/` covers every path) is mapped by the inverse of
/// ``PathRewrite``: the rest after R is joined to P with exactly one slash, and nothing left
/// gives P itself. Without `prefixRewrite` paths are not mapped.
///
/// Three forms of value are handled:
/// - an absolute path (`/a/b?q#f`): its path is mapped; the query and fragment are kept;
/// - an absolute `http`/`https` URI or a scheme-relative `//host/...` reference whose authority
///   equals, ignoring case, the host the upstream was sent (`hostRewrite`, else the client's
///   Host): the authority becomes the client's Host and the path is mapped; any other
///   authority leaves the value unchanged, and so does a request that had no Host;
/// - anything else (relative references, other schemes, an empty value) is left unchanged.
///
/// Built once per configuration generation; works on bytes and allocates only for a value it
/// changes.
public struct RedirectRewrite: Sendable, Equatable {
    /// The client-facing prefix P: the route's `pathPrefix`, or its exact `path`.
    public let clientPrefix: [UInt8]
    /// The upstream prefix R (`prefixRewrite`), or nil when paths are not mapped.
    public let upstreamPrefix: [UInt8]?
    /// `hostRewrite`, or nil when the upstream was sent the client's own Host.
    public let upstreamHost: [UInt8]?

    /// R without a trailing slash (empty for R `/`): the bytes a path under R starts with.
    private let upstreamBase: [UInt8]
    /// R ends in `/`, which then belongs to R rather than to the rest after it.
    private let upstreamEndsInSlash: Bool

    /// A rewrite from upstream prefix `upstreamPrefix` and host `upstreamHost` back to
    /// `clientPrefix`; both prefixes must start with `/`.
    public init(clientPrefix: String, upstreamPrefix: String?, upstreamHost: String?) {
        precondition(clientPrefix.hasPrefix("/"), "a route prefix must start with '/'")
        precondition(upstreamPrefix?.hasPrefix("/") ?? true, "a prefix rewrite must start with '/'")
        self.clientPrefix = Array(clientPrefix.utf8)
        self.upstreamPrefix = upstreamPrefix.map { Array($0.utf8) }
        self.upstreamHost = upstreamHost.map { Array($0.utf8) }
        var base = self.upstreamPrefix ?? []
        upstreamEndsInSlash = base.last == ASCII.slash
        if upstreamEndsInSlash { base.removeLast() }
        upstreamBase = base
    }

    /// The route's redirect rewrite, or nil when there is nothing to map back: the route has
    /// neither `prefixRewrite` nor `hostRewrite`, sets `redirectRewrite: false`, or answers
    /// itself (`directResponse`).
    public init?(route: RouteConfig) {
        guard route.redirectRewrite, route.upstreamName != nil,
            route.prefixRewrite != nil || route.hostRewrite != nil
        else { return nil }
        self.init(
            clientPrefix: route.match.path.value, upstreamPrefix: route.prefixRewrite,
            upstreamHost: route.hostRewrite)
    }

    /// The rewritten field value, or nil when `value` is to be sent unchanged.
    ///
    /// `clientHost` is the request's Host as the client sent it (port included), nil when it
    /// sent none. Both buffers are borrowed for the call only.
    public func rewrite(_ value: UnsafeRawBufferPointer, clientHost: UnsafeRawBufferPointer?) -> [UInt8]? {
        guard let first = value.first else { return nil }
        if first == ASCII.slash {
            if value.count > 1 && value[1] == ASCII.slash {
                return rewriteURI(value, authorityStart: 2, clientHost: clientHost)
            }
            return rewritePath(value)
        }
        guard let authorityStart = RedirectRewrite.authorityStart(value) else { return nil }
        return rewriteURI(value, authorityStart: authorityStart, clientHost: clientHost)
    }

    /// The rewritten value as a string, or nil when unchanged; for tests and tools.
    public func rewrite(_ value: String, clientHost: String?) -> String? {
        let valueBytes = Array(value.utf8)
        let hostBytes = clientHost.map { Array($0.utf8) }
        let result = valueBytes.withUnsafeBytes { valueBuffer in
            if let hostBytes {
                return hostBytes.withUnsafeBytes { rewrite(valueBuffer, clientHost: $0) }
            }
            return rewrite(valueBuffer, clientHost: nil)
        }
        return result.map { String(decoding: $0, as: UTF8.self) }
    }

    /// An absolute path: mapped when under R, else unchanged.
    private func rewritePath(_ value: UnsafeRawBufferPointer) -> [UInt8]? {
        let pathEnd = RedirectRewrite.pathEnd(value, from: 0)
        var result: [UInt8] = []
        guard appendMappedPath(UnsafeRawBufferPointer(rebasing: value[0..<pathEnd]), to: &result) else {
            return nil
        }
        result.append(contentsOf: value[pathEnd...])
        return result
    }

    /// An absolute URI or scheme-relative reference whose authority starts at `authorityStart`.
    private func rewriteURI(
        _ value: UnsafeRawBufferPointer, authorityStart: Int, clientHost: UnsafeRawBufferPointer?
    ) -> [UInt8]? {
        guard let clientHost else { return nil }
        var authorityEnd = authorityStart
        while authorityEnd < value.count && !RedirectRewrite.endsAuthority(value[authorityEnd]) {
            authorityEnd += 1
        }
        let authority = UnsafeRawBufferPointer(rebasing: value[authorityStart..<authorityEnd])
        let isUpstreamFacing =
            if let upstreamHost {
                upstreamHost.withUnsafeBytes { RedirectRewrite.equalsIgnoringCase(authority, $0) }
            } else {
                RedirectRewrite.equalsIgnoringCase(authority, clientHost)
            }
        guard isUpstreamFacing else { return nil }

        let pathEnd = RedirectRewrite.pathEnd(value, from: authorityEnd)
        var result: [UInt8] = []
        result.reserveCapacity(value.count + clientHost.count + clientPrefix.count)
        result.append(contentsOf: value[0..<authorityStart])
        result.append(contentsOf: clientHost)
        let path = UnsafeRawBufferPointer(rebasing: value[authorityEnd..<pathEnd])
        // An empty path is the same resource as "/" (RFC 9110 §4.2.3).
        let mapped =
            path.isEmpty
            ? RedirectRewrite.root.withUnsafeBytes { appendMappedPath($0, to: &result) }
            : appendMappedPath(path, to: &result)
        if !mapped {
            if authority.elementsEqual(clientHost) { return nil }
            result.append(contentsOf: path)
        }
        result.append(contentsOf: value[pathEnd...])
        return result
    }

    /// Appends the client-facing path for `path` and returns true when `path` is under R;
    /// appends nothing and returns false otherwise (and always without `prefixRewrite`).
    private func appendMappedPath(_ path: UnsafeRawBufferPointer, to result: inout [UInt8]) -> Bool {
        guard upstreamPrefix != nil, path.count >= upstreamBase.count, path.starts(with: upstreamBase),
            path.count == upstreamBase.count || path[upstreamBase.count] == ASCII.slash
        else { return false }
        // R "/v2/" also covers "/v2": the upstream's usual redirect to add the slash.
        var restStart = upstreamBase.count
        if upstreamEndsInSlash && restStart < path.count { restStart += 1 }
        let rest = UnsafeRawBufferPointer(rebasing: path[restStart...])
        guard let restFirst = rest.first else {
            result.append(contentsOf: clientPrefix)
            return true
        }
        // Joined with exactly one slash, as `PathRewrite` joins the other way.
        let prefixEndsInSlash = clientPrefix.last == ASCII.slash
        let restStartsWithSlash = restFirst == ASCII.slash
        if prefixEndsInSlash && restStartsWithSlash {
            result.append(contentsOf: clientPrefix.dropLast())
        } else {
            result.append(contentsOf: clientPrefix)
            if !prefixEndsInSlash && !restStartsWithSlash { result.append(ASCII.slash) }
        }
        result.append(contentsOf: rest)
        return true
    }

    private static let root: [UInt8] = [ASCII.slash]

    /// Where the authority of `http://` or `https://` (scheme in any case, RFC 3986 §3.1)
    /// starts, or nil for any other value.
    private static func authorityStart(_ value: UnsafeRawBufferPointer) -> Int? {
        let colon = UInt8(ascii: ":")
        var index = 0
        for letter in "http".utf8 {
            guard index < value.count, ASCII.lowercase(value[index]) == letter else { return nil }
            index += 1
        }
        if index < value.count && ASCII.lowercase(value[index]) == UInt8(ascii: "s") { index += 1 }
        guard value.count >= index + 3, value[index] == colon, value[index + 1] == ASCII.slash,
            value[index + 2] == ASCII.slash
        else { return nil }
        return index + 3
    }

    /// The authority ends at the path, query or fragment (RFC 3986 §3.2).
    private static func endsAuthority(_ byte: UInt8) -> Bool {
        byte == ASCII.slash || byte == UInt8(ascii: "?") || byte == UInt8(ascii: "#")
    }

    /// The index of the first `?` or `#` at or after `start`, or the end.
    private static func pathEnd(_ value: UnsafeRawBufferPointer, from start: Int) -> Int {
        var index = start
        while index < value.count && value[index] != UInt8(ascii: "?") && value[index] != UInt8(ascii: "#") {
            index += 1
        }
        return index
    }

    private static func equalsIgnoringCase(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
        guard a.count == b.count else { return false }
        for index in 0..<a.count where ASCII.lowercase(a[index]) != ASCII.lowercase(b[index]) { return false }
        return true
    }
}
