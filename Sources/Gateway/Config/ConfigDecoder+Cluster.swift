extension ConfigDecoder {
    static let clusterKeys: Set<String> = ["redis"]
    static let redisKeys: Set<String> = ["address", "password", "db", "timeoutMs", "replicasHint"]
    /// `sun_path` is 108 bytes on Linux, one of them the terminating NUL.
    static let maxUnixPathBytes = 107

    /// `cluster` (docs/configuration.md, "Cluster rate limits"); nil when absent.
    mutating func decodeCluster(_ root: ConfigObject) -> ClusterConfig? {
        guard let cluster = nested(root, "cluster", keys: ConfigDecoder.clusterKeys) else { return nil }
        guard let redisNode = required(cluster, "redis"),
            let redis = object(redisNode, at: cluster.path("redis"), keys: ConfigDecoder.redisKeys)
        else { return nil }
        var address: RedisAddress?
        if let node = required(redis, "address") {
            if case .string(let text) = node.kind, text.hasPrefix("unix:") {
                let path = String(text.dropFirst("unix:".count))
                if !path.hasPrefix("/") {
                    report(
                        redis.path("address"), "a unix socket path must be absolute: unix:/path",
                        at: node.offset)
                } else if path.utf8.count > ConfigDecoder.maxUnixPathBytes || path.utf8.contains(0) {
                    report(
                        redis.path("address"),
                        "a unix socket path holds at most \(ConfigDecoder.maxUnixPathBytes) bytes",
                        at: node.offset)
                } else {
                    address = .unix(path)
                }
            } else if let tcp = self.address(node, at: redis.path("address"), allowPortZero: false) {
                address = .tcp(tcp)
            }
        }
        var password: String?
        if let node = optional(redis, "password"), let text = string(node, at: redis.path("password")) {
            if text.isEmpty {
                report(redis.path("password"), "must not be empty (leave it out for none)", at: node.offset)
            } else {
                password = text
            }
        }
        let database = integer(redis, "db", default: 0, maximum: Int(Int32.max))
        let timeoutMs = integer(redis, "timeoutMs", default: 5, minimum: 1, maximum: 60_000)
        let replicasHint = integer(redis, "replicasHint", default: 1, minimum: 1, maximum: 10_000)
        guard let address else { return nil }
        return ClusterConfig(
            redis: RedisConfig(
                address: address, password: password, database: database, timeoutMs: timeoutMs,
                replicasHint: replicasHint))
    }

    /// A string that must be one of `Choice`'s raw values; `fallback` when absent or wrong
    /// (reported).
    mutating func choice<Choice: RawRepresentable & CaseIterable>(
        _ object: ConfigObject, _ key: String, default fallback: Choice
    ) -> Choice where Choice.RawValue == String {
        guard let node = optional(object, key), let text = string(node, at: object.path(key)) else {
            return fallback
        }
        guard let value = Choice(rawValue: text) else {
            let expected = ConfigSyntax.choices(Choice.allCases.map(\.rawValue))
            report(object.path(key), "unknown value \"\(text)\" (expected \(expected))", at: node.offset)
            return fallback
        }
        return value
    }
}
