import Testing

@testable import Gateway

/// `cluster.redis` and a rate limit's `scope`/`onBackendError` (docs/configuration.md,
/// "Cluster rate limits").
@Suite struct ClusterConfigTests {
    private typealias Fixtures = ConfigFixtures

    private static func config(cluster: String?, rateLimit: String) -> String {
        Fixtures.json(
            routes: #"[{"name": "a", "upstream": "users", "rateLimit": \#(rateLimit)}]"#,
            extra: cluster.map { #", "cluster": \#($0)"# } ?? "")
    }

    @Test func decodesTheRedisSettingsAndTheScopeWithTheirDefaults() throws {
        let loaded = try Fixtures.load(
            Self.config(
                cluster: #"{"redis": {"address": "127.0.0.1:6379"}}"#,
                rateLimit: #"{"requestsPerSecond": 10, "scope": "cluster"}"#)
        ).get()
        let redis = try #require(loaded.cluster?.redis)
        #expect(redis.address.description == "127.0.0.1:6379")
        #expect(redis.password == nil && redis.database == 0)
        #expect(redis.timeoutMs == 5 && redis.replicasHint == 1)
        #expect(loaded.routes[0].rateLimit?.scope == .cluster)
        #expect(loaded.routes[0].rateLimit?.onBackendError == .local)
        // Without the keys, a limit is the local one.
        let local = try Fixtures.load(Self.config(cluster: nil, rateLimit: "{}")).get()
        #expect(local.routes[0].rateLimit?.scope == .local)
        #expect(local.cluster == nil)
    }

    @Test(arguments: [
        (
            config(cluster: nil, rateLimit: #"{"scope": "cluster"}"#),
            [#"routes[0].rateLimit.scope: "cluster" needs a top-level cluster.redis"#]
        ),
        (
            config(cluster: nil, rateLimit: #"{"onBackendError": "open"}"#),
            [#"routes[0].rateLimit.onBackendError: applies only to scope "cluster""#]
        ),
        (
            config(cluster: nil, rateLimit: #"{"scope": "fleet"}"#),
            [#"routes[0].rateLimit.scope: unknown value "fleet" (expected local or cluster)"#]
        ),
        (
            config(
                cluster: #"{"redis": {"address": "127.0.0.1:6379"}}"#,
                rateLimit: #"{"scope": "cluster", "onBackendError": "fail"}"#),
            [#"routes[0].rateLimit.onBackendError: unknown value "fail" (expected local, open or closed)"#]
        ),
        (config(cluster: "{}", rateLimit: "{}"), ["cluster.redis: missing required key"]),
        (
            config(cluster: #"{"redis": {}}"#, rateLimit: "{}"),
            ["cluster.redis.address: missing required key"]
        ),
        (
            config(cluster: #"{"redis": {"address": "unix:run/redis.sock"}}"#, rateLimit: "{}"),
            ["cluster.redis.address: a unix socket path must be absolute: unix:/path"]
        ),
        (
            config(
                cluster: #"{"redis": {"address": "unix:/\#(String(repeating: "a", count: 107))"}}"#,
                rateLimit: "{}"),
            ["cluster.redis.address: a unix socket path holds at most 107 bytes"]
        ),
        (
            config(
                cluster: #"{"redis": {"address": "127.0.0.1:6379", "timeoutMs": 0, "replicasHint": 0}}"#,
                rateLimit: "{}"),
            ["cluster.redis.timeoutMs: must be at least 1", "cluster.redis.replicasHint: must be at least 1"]
        ),
        (
            config(cluster: #"{"redis": {"address": "127.0.0.1:6379", "password": ""}}"#, rateLimit: "{}"),
            ["cluster.redis.password: must not be empty (leave it out for none)"]
        ),
        (
            config(cluster: #"{"redis": {"address": "127.0.0.1:6379", "database": 1}}"#, rateLimit: "{}"),
            ["cluster.redis.database: unknown key"]
        ),
        (
            config(cluster: #"{"redis": {"address": "127.0.0.1:6379"}, "x": 1}"#, rateLimit: "{}"),
            ["cluster.x: unknown key"]
        ),
    ])
    func refusesWhatItCannotActOn(text: String, expected: [String]) {
        #expect(Fixtures.errors(text) == expected)
    }

    @Test func aUnixSocketAddressIsAPath() throws {
        let loaded = try Fixtures.load(
            Self.config(cluster: #"{"redis": {"address": "unix:/run/redis/redis.sock"}}"#, rateLimit: "{}")
        ).get()
        #expect(loaded.cluster?.redis.address == .unix("/run/redis/redis.sock"))
        #expect(loaded.cluster?.redis.address.description == "unix:/run/redis/redis.sock")
    }

    @Test func theRunningConfigShowsTheClusterWithItsPasswordRedacted() throws {
        let loaded = try Fixtures.load(
            Self.config(
                cluster: #"{"redis": {"address": "127.0.0.1:6379", "password": "s3cret", "db": 2}}"#,
                rateLimit: #"{"scope": "cluster", "onBackendError": "closed"}"#)
        ).get()
        var bytes: [UInt8] = []
        loaded.redactedJSON(generation: 1).write(to: &bytes, pretty: false)
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(text.contains(#""password":"[redacted]""#))
        #expect(!text.contains("s3cret"))
        #expect(text.contains(#""scope":"cluster","onBackendError":"closed""#))
        #expect(!loaded.summary().joined().contains("s3cret"))
        #expect(loaded.summary().contains { $0.hasPrefix("cluster: redis 127.0.0.1:6379 db 2") })
    }

    @Test func aReloadSaysWhenTheRedisChanges() throws {
        let before = try Fixtures.load(
            Self.config(cluster: #"{"redis": {"address": "127.0.0.1:6379"}}"#, rateLimit: "{}")
        ).get()
        let after = try Fixtures.load(
            Self.config(cluster: #"{"redis": {"address": "127.0.0.1:6380"}}"#, rateLimit: "{}")
        ).get()
        #expect(ConfigDiff(from: before, to: after).changes.contains("cluster.redis changed: 127.0.0.1:6380"))
    }
}
