import Gateway
import HTTP1

/// The bucket key of a request (`rateLimit.key`) as a 64-bit hash. The hash is Swift's
/// `Hasher`, seeded afresh by every process, so keys cannot be chosen to collide; with
/// 100,000 keys the chance that two share a bucket by accident is about 10⁻⁹.
enum RateLimitKeys {
    /// The key of requests without the header a `header:<Name>` limit is keyed on: they
    /// share one bucket.
    static let missingHeader: UInt64 = 0x6D69_7373_696E_6721

    static func hash(_ address: IPAddress) -> UInt64 {
        var hasher = Hasher()
        hasher.combine(address)
        return UInt64(bitPattern: Int64(hasher.finalize()))
    }

    static func hash(bytes: UnsafeRawBufferPointer) -> UInt64 {
        var hasher = Hasher()
        hasher.combine(bytes: bytes)
        return UInt64(bitPattern: Int64(hasher.finalize()))
    }
}

extension RequestDispatcher {
    /// The request's bucket key under `limit`: 0 for `global`, the client address (the one
    /// used everywhere: docs/operations.md, "Client address"), or the first value of the
    /// header (compared case-insensitively).
    @inline(__always)
    func rateLimitKey(
        _ limit: RuntimeRateLimit, head: borrowing RequestHead, bytes: UnsafeRawBufferPointer,
        client: ClientConnection, named: borrowing ConnectionNames
    ) -> UInt64 {
        switch limit.keyKind {
        case .global:
            return 0
        case .header:
            return headerKey(limit, head: head, bytes: bytes)
        case .clientIP:
            // The usual case, worked out once per connection.
            guard peerIsTrusted(client), !named.contains(.xForwardedFor) else { return client.peerKey }
            return trustedClientKey(client, head: head, bytes: bytes)
        }
    }

    private func headerKey(
        _ limit: RuntimeRateLimit, head: borrowing RequestHead, bytes: UnsafeRawBufferPointer
    ) -> UInt64 {
        guard let name = limit.headerName else { return RateLimitKeys.missingHeader }
        for field in head.fields where ASCII.equalsIgnoringCase(field.name.bytes(in: bytes), name) {
            return RateLimitKeys.hash(bytes: field.value.bytes(in: bytes))
        }
        return RateLimitKeys.missingHeader
    }

    /// The hash of the client address behind a trusted proxy, as `clientIP` finds it: the
    /// rightmost X-Forwarded-For entry that is not trusted (an entry that is no address ends
    /// the walk and is the key itself).
    private func trustedClientKey(
        _ client: ClientConnection, head: borrowing RequestHead, bytes: UnsafeRawBufferPointer
    ) -> UInt64 {
        var entries: [UnsafeRawBufferPointer] = []
        for field in head.fields where field.known == .xForwardedFor {
            Bytes.forEachListElement(field.value.bytes(in: bytes)) { entries.append($0) }
        }
        guard let leftmost = entries.first else { return client.peerKey }
        for entry in entries.reversed() {
            guard let ip = IPAddress(bytes: entry) else { return RateLimitKeys.hash(bytes: entry) }
            if !isTrusted(ip, client.listener) { return RateLimitKeys.hash(ip) }
        }
        return IPAddress(bytes: leftmost).map(RateLimitKeys.hash) ?? client.peerKey
    }
}
