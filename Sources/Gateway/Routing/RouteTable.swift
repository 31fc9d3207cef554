import HTTP1

/// The routes of one configuration, compiled once into lookup tables (docs/configuration.md, "routes[]").
///
/// Precedence: routes with an exact host, then wildcard hosts (longest suffix first), then
/// routes without a host; within each, an exact `path`, then `pathPrefix` longest first; among
/// routes tied on both, the first in the file whose methods and headers also match.
/// Immutable and `Sendable`; matching allocates nothing.
public struct RouteTable: Sendable {
    private struct Span: Sendable {
        var start: Int32
        var count: Int32

        var range: Range<Int> {
            Int(start)..<Int(start) + Int(count)
        }
    }

    private struct Wildcard: Sendable {
        // The domain with its leading dot (`.example.com`), so a suffix match needs no extra check.
        var suffix: Span
        var bucket: Int32
    }

    private struct Conditions: Sendable {
        // Into `methodKeys`; nil when any method is allowed.
        var methods: Span?
        // Into `headerConditions`.
        var headers: Span
    }

    private struct HeaderCondition: Sendable {
        var name: Int32
        var value: Span
    }

    /// The routes, in file order; ``match(method:host:path:headerValue:)`` returns indices into it.
    public let routes: [RouteConfig]
    private let hosts: ByteKeyTable
    private let exactPaths: ByteKeyTable
    private let exactRoutes: [Span]
    private let wildcards: [Wildcard]
    private let anyHostBucket: Int
    // Prefixes are looked up by length: each bucket lists the distinct lengths of its prefixes,
    // longest first, and a path is tried at each length where a segment boundary falls, with one
    // hash lookup per length instead of a comparison per route.
    private let prefixPaths: ByteKeyTable
    private let prefixRoutes: [Span]
    private let bucketPrefixLengths: [Span]
    private let prefixLengths: [Int32]
    private let candidates: [Int32]
    private let conditions: [Conditions]
    private let methodKeys: [Span]
    private let headerConditions: [HeaderCondition]
    private let headerNames: [[UInt8]]
    private let bytes: [UInt8]
    private let rewrites: [PathRewrite?]

    /// Compiles `routes` (validated: no two with identical matches).
    public init(routes: [RouteConfig]) {
        var builder = RouteTableBuilder()
        for (index, route) in routes.enumerated() {
            builder.add(route, index: index)
        }
        self.routes = routes
        var bytes: [UInt8] = []
        func store(_ value: [UInt8]) -> Span {
            defer { bytes.append(contentsOf: value) }
            return Span(start: Int32(bytes.count), count: Int32(value.count))
        }
        var candidates: [Int32] = []
        func storeRoutes(_ indices: [Int]) -> Span {
            defer { candidates.append(contentsOf: indices.map { Int32($0) }) }
            return Span(start: Int32(candidates.count), count: Int32(indices.count))
        }
        var hostItems: [(key: [UInt8], seed: Int, value: Int)] = []
        var exactItems: [(key: [UInt8], seed: Int, value: Int)] = []
        var exactRoutes: [Span] = []
        var wildcards: [Wildcard] = []
        var anyHostBucket = -1
        var prefixItems: [(key: [UInt8], seed: Int, value: Int)] = []
        var prefixRoutes: [Span] = []
        var bucketPrefixLengths: [Span] = []
        var prefixLengths: [Int32] = []
        for (bucketIndex, bucket) in builder.buckets.enumerated() {
            switch bucket.host {
            case .exact(let host):
                hostItems.append((ASCII.lowercased(host.utf8), 0, bucketIndex))
            case .wildcard(let domain):
                let suffix = store(ASCII.lowercased(("." + domain).utf8))
                wildcards.append(Wildcard(suffix: suffix, bucket: Int32(bucketIndex)))
            case nil:
                anyHostBucket = bucketIndex
            }
            for (path, indices) in bucket.exactPaths {
                exactItems.append((Array(path.utf8), bucketIndex, exactRoutes.count))
                exactRoutes.append(storeRoutes(indices))
            }
            for (prefix, indices) in bucket.prefixes {
                prefixItems.append((Array(prefix.utf8), bucketIndex, prefixRoutes.count))
                prefixRoutes.append(storeRoutes(indices))
            }
            let lengths = Set(bucket.prefixes.map { Int32($0.prefix.utf8.count) }).sorted(by: >)
            bucketPrefixLengths.append(Span(start: Int32(prefixLengths.count), count: Int32(lengths.count)))
            prefixLengths.append(contentsOf: lengths)
        }
        wildcards.sort { $0.suffix.count > $1.suffix.count }

        var conditions: [Conditions] = []
        var methodKeys: [Span] = []
        var headerConditions: [HeaderCondition] = []
        var headerNames: [[UInt8]] = []
        for route in routes {
            var methods: Span?
            if let list = route.match.methods {
                methods = Span(start: Int32(methodKeys.count), count: Int32(list.count))
                methodKeys.append(contentsOf: list.map { store(Array($0.utf8)) })
            }
            let headerStart = Int32(headerConditions.count)
            for header in route.match.headers {
                headerConditions.append(
                    HeaderCondition(name: Int32(headerNames.count), value: store(Array(header.value.utf8))))
                headerNames.append(ASCII.lowercased(header.name.utf8))
            }
            conditions.append(
                Conditions(
                    methods: methods,
                    headers: Span(start: headerStart, count: Int32(headerConditions.count) - headerStart)
                ))
        }
        self.hosts = ByteKeyTable(hostItems)
        self.exactPaths = ByteKeyTable(exactItems)
        self.exactRoutes = exactRoutes
        self.wildcards = wildcards
        self.anyHostBucket = anyHostBucket
        self.prefixPaths = ByteKeyTable(prefixItems)
        self.prefixRoutes = prefixRoutes
        self.bucketPrefixLengths = bucketPrefixLengths
        self.prefixLengths = prefixLengths
        self.candidates = candidates
        self.conditions = conditions
        self.methodKeys = methodKeys
        self.headerConditions = headerConditions
        self.headerNames = headerNames
        self.bytes = bytes
        self.rewrites = routes.map(PathRewrite.init(route:))
    }

    /// The index of the route a request takes, or nil for none (404 `no_route`).
    ///
    /// `host` is the raw Host value or absolute-form authority as received; the router strips the
    /// port and one trailing dot and compares case-insensitively (nil or empty: no host, so only
    /// routes without a host condition can match). `path` is the normalized path without the query.
    /// `headerValue` gets a lowercased field name and returns the request's value for that field
    /// (the caller decides how repeated fields combine); it is called only for routes with header
    /// conditions. Allocates nothing.
    public func match(
        method: UnsafeRawBufferPointer,
        host: UnsafeRawBufferPointer?,
        path: UnsafeRawBufferPointer,
        headerValue: (_ lowercasedName: [UInt8]) -> UnsafeRawBufferPointer?
    ) -> Int? {
        if let host, let name = RouteTable.hostName(host) {
            if let bucket = hosts.value(for: name, seed: 0, lowercasing: true),
                let route = match(bucket: bucket, method: method, path: path, headerValue: headerValue)
            {
                return route
            }
            for wildcard in wildcards where name.count > Int(wildcard.suffix.count) {
                let tail = UnsafeRawBufferPointer(
                    rebasing: name[(name.count - Int(wildcard.suffix.count))...])
                if equals(tail, wildcard.suffix, lowercasing: true),
                    let route = match(
                        bucket: Int(wildcard.bucket), method: method, path: path, headerValue: headerValue)
                {
                    return route
                }
            }
        }
        if anyHostBucket >= 0 {
            return match(bucket: anyHostBucket, method: method, path: path, headerValue: headerValue)
        }
        return nil
    }

    /// The same as the byte-level match, for the admin `/route` endpoint and tests: `path` is the
    /// normalized path without query; header names are matched case-insensitively, first value wins.
    public func match(method: String, host: String?, path: String, headers: [(String, String)] = []) -> Int? {
        var storage: [UInt8] = Array(method.utf8)
        let methodRange = 0..<storage.count
        storage += path.utf8
        let pathRange = methodRange.upperBound..<storage.count
        var hostRange: Range<Int>?
        if let host {
            storage += host.utf8
            hostRange = pathRange.upperBound..<storage.count
        }
        var fields: [(name: [UInt8], value: Range<Int>)] = []
        for (name, value) in headers {
            let start = storage.count
            storage += value.utf8
            fields.append((ASCII.lowercased(name.utf8), start..<storage.count))
        }
        return storage.withUnsafeBytes { all in
            match(
                method: UnsafeRawBufferPointer(rebasing: all[methodRange]),
                host: hostRange.map { UnsafeRawBufferPointer(rebasing: all[$0]) },
                path: UnsafeRawBufferPointer(rebasing: all[pathRange])
            ) { name in
                fields.first { $0.name == name }.map { UnsafeRawBufferPointer(rebasing: all[$0.value]) }
            }
        }
    }

    /// The path rewrite of route `index`, or nil when it forwards the path unchanged.
    public func rewrite(forRoute index: Int) -> PathRewrite? {
        rewrites[index]
    }

    /// Appends the request target to send upstream for route `index`: the path, rewritten if the
    /// route says so, then `?` and `query` when `query` is non-nil (`query` excludes the `?`).
    public func appendForwardTarget(
        route index: Int, path: UnsafeRawBufferPointer, query: UnsafeRawBufferPointer?,
        to target: inout [UInt8]
    ) {
        if let rewrite = rewrites[index] {
            rewrite.apply(path: path, query: query, to: &target)
        } else {
            PathRewrite.appendUnchanged(path: path, query: query, to: &target)
        }
    }

    /// The request target to send upstream for route `index`, as a string.
    public func forwardTarget(route index: Int, path: String, query: String? = nil) -> String {
        var target: [UInt8] = []
        var path = path
        var query = query
        path.withUTF8 { pathBytes in
            if query == nil {
                appendForwardTarget(
                    route: index, path: UnsafeRawBufferPointer(pathBytes), query: nil, to: &target)
                return
            }
            query!.withUTF8 { queryBytes in
                appendForwardTarget(
                    route: index, path: UnsafeRawBufferPointer(pathBytes),
                    query: UnsafeRawBufferPointer(queryBytes),
                    to: &target)
            }
        }
        return String(decoding: target, as: UTF8.self)
    }

    private func match(
        bucket: Int,
        method: UnsafeRawBufferPointer,
        path: UnsafeRawBufferPointer,
        headerValue: (_ lowercasedName: [UInt8]) -> UnsafeRawBufferPointer?
    ) -> Int? {
        if let exact = exactPaths.value(for: path, seed: bucket, lowercasing: false) {
            if let route = firstSatisfied(exactRoutes[exact], method: method, headerValue: headerValue) {
                return route
            }
        }
        // Index loops rather than slices: a slice would retain the array on every request.
        for position in bucketPrefixLengths[bucket].range {
            let length = Int(prefixLengths[position])
            // Segment-aware (docs/configuration.md, "routes[]"): a prefix of this length can only match when it is the
            // whole path, ends in '/', or is followed by '/' (`/api` matches `/api/v1`, not `/apix`).
            guard length <= path.count,
                length == path.count || path[length - 1] == ASCII.slash || path[length] == ASCII.slash,
                let entry = prefixPaths.value(
                    for: UnsafeRawBufferPointer(rebasing: path[..<length]), seed: bucket, lowercasing: false)
            else { continue }
            if let route = firstSatisfied(prefixRoutes[entry], method: method, headerValue: headerValue) {
                return route
            }
        }
        return nil
    }

    private func firstSatisfied(
        _ routes: Span,
        method: UnsafeRawBufferPointer,
        headerValue: (_ lowercasedName: [UInt8]) -> UnsafeRawBufferPointer?
    ) -> Int? {
        for position in routes.range {
            let route = Int(candidates[position])
            if satisfies(conditions[route], method: method, headerValue: headerValue) {
                return route
            }
        }
        return nil
    }

    private func satisfies(
        _ conditions: Conditions,
        method: UnsafeRawBufferPointer,
        headerValue: (_ lowercasedName: [UInt8]) -> UnsafeRawBufferPointer?
    ) -> Bool {
        if let methods = conditions.methods {
            var allowed = false
            for position in methods.range where equals(method, methodKeys[position], lowercasing: false) {
                allowed = true
                break
            }
            if !allowed {
                return false
            }
        }
        for position in conditions.headers.range {
            let condition = headerConditions[position]
            guard let value = headerValue(headerNames[Int(condition.name)]),
                equals(value, condition.value, lowercasing: false)
            else { return false }
        }
        return true
    }

    private func equals(_ value: UnsafeRawBufferPointer, _ key: Span, lowercasing: Bool) -> Bool {
        guard value.count == Int(key.count) else { return false }
        let start = Int(key.start)
        for offset in 0..<value.count {
            let byte = lowercasing ? ASCII.lowercase(value[offset]) : value[offset]
            if bytes[start + offset] != byte {
                return false
            }
        }
        return true
    }

    // The host without its port (RFC 9110 §7.2: Host = uri-host [ ":" port ]) and without one
    // trailing dot (`example.com.` names the same host), or nil when nothing is left.
    private static func hostName(_ host: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer? {
        var end = host.count
        if host.first == UInt8(ascii: "[") {
            guard let close = host.firstIndex(of: UInt8(ascii: "]")) else { return nil }
            end = close + 1
        } else if let colon = host.firstIndex(of: UInt8(ascii: ":")) {
            end = colon
        }
        if end > 1 && host[end - 1] == UInt8(ascii: ".") {
            end -= 1
        }
        return end == 0 ? nil : UnsafeRawBufferPointer(rebasing: host[..<end])
    }
}
