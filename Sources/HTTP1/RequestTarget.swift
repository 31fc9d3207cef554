/// Path utilities for request targets: query split and dot-segment removal (README.md, "Strict parsing").
public enum RequestTarget {
    /// The index of the first '?' in `target`, or `target.count`: the path is `0..<pathEnd`.
    public static func splitQuery(_ target: UnsafeRawBufferPointer) -> Int {
        for i in 0..<target.count where target[i] == UInt8(ascii: "?") { return i }
        return target.count
    }

    /// Removes dot segments from an absolute path (RFC 3986 §5.2.4), or returns nil when there
    /// are none (then the path is already normal; nothing is allocated).
    ///
    /// `path` is the path alone (no query) and starts with '/'; anything else is returned as nil.
    /// A segment is a dot segment when it is "." or ".." with any dot written as `%2e` or `%2E`.
    /// `%2F` stays encoded and repeated slashes are kept (so empty segments count as segments).
    /// Throws `.badRequest("path escapes root")` when ".." would climb above the root, which
    /// RFC 3986 silently ignores but the gateway refuses (README.md, "Strict parsing").
    public static func normalizePath(_ path: UnsafeRawBufferPointer) throws(HTTP1ParseError) -> [UInt8]? {
        guard path.first == UInt8(ascii: "/"), containsDotSegment(path) else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(path.count)
        var start = 1
        let n = path.count
        while true {
            var end = start
            while end < n && path[end] != UInt8(ascii: "/") { end += 1 }
            let isLast = end == n
            let segment = UnsafeRawBufferPointer(rebasing: path[start..<end])
            switch dotCount(segment) {
            case 1:
                if isLast { out.append(UInt8(ascii: "/")) }
            case 2:
                guard let slash = out.lastIndex(of: UInt8(ascii: "/")) else {
                    throw .badRequest("path escapes root")
                }
                out.removeSubrange(slash...)
                if isLast { out.append(UInt8(ascii: "/")) }
            default:
                out.append(UInt8(ascii: "/"))
                out.append(contentsOf: segment)
            }
            if isLast { break }
            start = end + 1
        }
        if out.isEmpty { out.append(UInt8(ascii: "/")) }
        return out
    }

    /// True when some segment of `path` is a dot segment.
    static func containsDotSegment(_ path: UnsafeRawBufferPointer) -> Bool {
        var i = 0
        let n = path.count
        while i < n {
            guard path[i] == UInt8(ascii: "/") else {
                i += 1
                continue
            }
            let start = i + 1
            var end = start
            while end < n && path[end] != UInt8(ascii: "/") { end += 1 }
            if start < end, path[start] == UInt8(ascii: ".") || path[start] == UInt8(ascii: "%"),
                dotCount(UnsafeRawBufferPointer(rebasing: path[start..<end])) > 0
            {
                return true
            }
            i = end
        }
        return false
    }

    /// 1 for ".", 2 for "..", counting `%2e`/`%2E` as a dot; 0 for any other segment.
    static func dotCount(_ segment: UnsafeRawBufferPointer) -> Int {
        var dots = 0
        var i = 0
        let n = segment.count
        while i < n {
            if segment[i] == UInt8(ascii: ".") {
                i += 1
            } else if segment[i] == UInt8(ascii: "%"), i + 2 < n, segment[i + 1] == UInt8(ascii: "2"),
                segment[i + 2] | 0x20 == UInt8(ascii: "e")
            {
                i += 3
            } else {
                return 0
            }
            dots += 1
            if dots > 2 { return 0 }
        }
        return dots
    }
}
