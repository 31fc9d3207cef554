import Gateway
import Testing

@Suite struct GatewayConfigTests {
    @Test func summarizesListenersRoutesAndUpstreams() throws {
        let config = try ConfigFixtures.load(ConfigFixtures.full).get()
        #expect(
            config.summary() == [
                "listeners:",
                "  http 0.0.0.0:8080 (trusted proxies: 10.0.0.0/8 ::1/128)",
                "  [::1]:8081",
                "admin: 127.0.0.1:9901 (token required)",
                "routes:",
                "  users-api: host api.example.com, pathPrefix /users, methods GET POST, header X-Version: 2"
                    + " -> upstream users, rewrite /, host users.internal:8080,"
                    + " redirects passed unchanged, no timeout,"
                    + " retries 3 on connect_failure 5xx retriable_status per_try_timeout,"
                    + " rate limit 0.5/s burst 1 by header:X-Api-Key (dry run),"
                    + " request headers: set X-Env remove X-Debug",
                "  carts: host *.shop.example.com, path /cart -> upstream carts, timeout 15000ms,"
                    + " retries 2 on connect_failure reset, rate limit 100/s burst 20 by global",
                "  health: path /healthz -> direct response 200",
                "upstreams:",
                "  users: round_robin, connect timeout 500ms, health check GET /status every 2000ms,"
                    + " circuit breaker after 7 failures for 3000ms",
                "    127.0.0.1:9001 weight 3",
                "    localhost:9002 weight 1",
                "  carts: consistent_hash on header:X-User, connect timeout 1000ms,"
                    + " circuit breaker after 5 failures for 10000ms",
                "    [::1]:9003 weight 1",
            ])
    }

    @Test func neverPrintsTheAdminTokenOrHeaderValues() throws {
        let config = try ConfigFixtures.load(ConfigFixtures.full).get()
        let summary = config.summary().joined(separator: "\n")
        #expect(!summary.contains("s3cret-token"))
        #expect(!summary.contains("prod"))
        let json = config.redactedJSON(generation: 1).serialized()
        #expect(!json.contains("s3cret-token"))
        #expect(config.redactedJSON(generation: 1)["admin"]?["token"] == .string("[redacted]"))
    }

    @Test func showsTheGenerationAndEveryDefaultInJSON() throws {
        let config = try ConfigFixtures.load(ConfigFixtures.minimal).get()
        let json = config.redactedJSON(generation: 7)
        #expect(json["generation"] == .integer(7))
        #expect(json["admin"] == .null)
        #expect(json["limits"]?["maxRequestBodyBytes"] == .integer(10_485_760))
        #expect(json["timeouts"]?["idleMs"] == .integer(60000))
        #expect(json["accessLog"]?["path"] == .string("stdout"))
        let route = json["routes"]?.arrayValue?.first
        #expect(route?["match"]?["pathPrefix"] == .string("/"))
        #expect(route?["redirectRewrite"] == .bool(true))
        #expect(route?["retries"]?["retryOn"] == .array([.string("connect_failure"), .string("reset")]))
        #expect(json["upstreams"]?["users"]?["balance"] == .string("round_robin"))
    }

    @Test(arguments: [ConfigFixtures.full, ConfigFixtures.minimal])
    func loadsItsOwnJSONBackIntoAnEqualConfiguration(text: String) throws {
        var config = try ConfigFixtures.load(text).get()
        config.admin?.token = nil
        guard case .object(let members) = config.redactedJSON(generation: 3) else {
            Issue.record("expected an object")
            return
        }
        var bytes: [UInt8] = []
        JSONValue.object(members.filter { $0.key != "generation" }).write(to: &bytes, pretty: true)
        var reloaded = try ConfigLoader.load(json: bytes, resolve: ConfigFixtures.resolve).get()
        // Different bytes, the same configuration: only the file's hash differs.
        #expect(reloaded.sourceSHA256 == SHA256.hex(bytes))
        reloaded.sourceSHA256 = config.sourceSHA256
        #expect(reloaded == config)
    }
}
