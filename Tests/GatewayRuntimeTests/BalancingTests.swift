import PorticoTesting
import Testing

@Suite(.serialized, .timeLimit(.minutes(1))) struct BalancingTests {
    private static let route = #"[{"name":"app","match":{"pathPrefix":"/"},"upstream":"app"}]"#

    @Test func consistentHashSendsEachHeaderValueToOneUpstream() throws {
        let upstreams = try ["a", "b", "c"].map { try FakeUpstream(name: $0, handler: .echo) }
        let gateway = try GatewayHarness(
            GatewayHarness.config(
                upstreams: [("app", upstreams.map(\.address))], routes: Self.route,
                upstreamExtra: #","balance":"consistent_hash","hashOn":"header:X-User""#))
        let client = try gateway.client()
        var servedBy: [String: Set<String>] = [:]
        for round in 0..<3 {
            for user in 0..<20 {
                // Names compare case-insensitively; round 2 comes on a new connection each time.
                let headers = [(round == 1 ? "x-user" : "X-User", "user-\(user)")]
                let response =
                    round == 2
                    ? try TestClient.get(port: gateway.port, path: "/r\(round)", headers: headers)
                    : try client.request(path: "/r\(round)", headers: headers)
                #expect(response.status == 200)
                servedBy["user-\(user)", default: []].insert(response.header("X-Fake-Upstream") ?? "none")
            }
        }
        for (user, names) in servedBy {
            #expect(names.count == 1, "\(user) reached \(names.sorted())")
        }
        // Twenty keys over three servers: all on one would mean the key is not hashed.
        #expect(Set(servedBy.values.flatMap { $0 }).count > 1)

        // Without the header every request hashes the empty key: one server for all of them.
        var keyless: Set<String> = []
        for index in 0..<5 {
            keyless.insert(try client.request(path: "/none/\(index)").header("X-Fake-Upstream") ?? "none")
        }
        #expect(keyless.count == 1)
    }

    @Test func leastRequestSendsMoreToTheFasterUpstream() throws {
        // The slow upstream holds every request until the end; the fast one answers at once.
        let latch = try TestLatch()
        let slow = try FakeUpstream(name: "slow", handler: .waitFor(latch))
        let fast = try FakeUpstream(name: "fast", handler: .echo)
        defer {
            latch.open()
            slow.stop()
        }
        let gateway = try GatewayHarness(
            GatewayHarness.config(
                upstreams: [("app", [slow.address, fast.address])], routes: Self.route,
                upstreamExtra: #","balance":"least_request""#))
        var waiting: [TestClient] = []
        let requests = 20
        for index in 0..<requests {
            let client = try gateway.client()
            try client.sendRequest(path: "/\(index)")
            try waitUntil("request \(index) reaches an upstream") {
                slow.receivedRequests.count + fast.receivedRequests.count == index + 1
            }
            if slow.receivedRequests.count > waiting.count {
                waiting.append(client)
            } else {
                // Read before the next request, so the gateway has counted this one as done.
                #expect(try client.readResponse().status == 200)
            }
        }
        // With both idle the two tie and either may win; once the slow one holds a request,
        // (1 + 1) / 1 against (0 + 1) / 1 sends everything else to the fast one.
        #expect(slow.receivedRequests.count <= 1)
        #expect(fast.receivedRequests.count >= requests - 1)

        latch.open()
        for client in waiting {
            #expect(try client.readResponse().status == 200)
        }
    }
}
