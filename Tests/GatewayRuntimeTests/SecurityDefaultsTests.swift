import PorticoTesting
import Testing

/// What a client of a public listener cannot do, whatever it sends (docs/operations.md,
/// "Security defaults"): reach the admin endpoint, make the gateway connect anywhere but a
/// configured server, plant a request id, or get its input echoed in an error body.
@Suite(.serialized, .timeLimit(.minutes(1))) struct SecurityDefaultsTests {
    private func gateway(_ upstream: FakeUpstream, routes: String) throws -> GatewayHarness {
        try GatewayHarness(
            GatewayHarness.config(
                upstreams: [("app", [upstream.address])], routes: routes,
                admin: #"{"address":"127.0.0.1:0","token":"s3cret-token"}"#))
    }

    private let catchAll = #"[{"name":"all","match":{"pathPrefix":"/"},"upstream":"app"}]"#

    /// The admin endpoint has its own listener: its paths on a public listener are ordinary
    /// requests, routed (here to the upstream) or refused with 404, never answered by it.
    @Test func adminPathsOnAPublicListenerAreOrdinaryRequests() throws {
        let upstream = try FakeUpstream(handler: .echo)
        let routed = try gateway(upstream, routes: catchAll)
        let client = try routed.client()
        #expect(try client.request(path: "/stats").status == 200)
        #expect(try client.request(path: "/config").status == 200)
        #expect(try client.request(method: "POST", path: "/reload", body: Array("{}".utf8)).status == 200)
        let seen = try upstream.waitForRequests(count: 3).map(\.path)
        #expect(seen == ["/stats", "/config", "/reload"])

        let apiOnly = try gateway(
            try FakeUpstream(handler: .echo),
            routes: #"[{"name":"api","match":{"pathPrefix":"/api/"},"upstream":"app"}]"#)
        for path in ["/stats", "/config", "/", "/healthz"] {
            let response = try TestClient.get(port: apiOnly.port, path: path)
            #expect(response.status == 404, "\(path)")
            #expect(response.header("X-Gateway-Error") == "no_route", "\(path)")
        }
    }

    /// A token that differs in its last byte, or is a prefix of the real one, is refused
    /// (the comparison is constant-time over the whole value: AdminRoutes).
    @Test func adminTokenMustMatchWhole() throws {
        let gateway = try gateway(try FakeUpstream(handler: .echo), routes: catchAll)
        for given in ["Bearer s3cret-tokem", "Bearer s3cret", "Bearer s3cret-token2", "s3cret-token"] {
            let response = try gateway.adminClient().request(
                path: "/stats", headers: [("Authorization", given)])
            #expect(response.status == 401, "\(given)")
        }
        let allowed = try gateway.adminClient().request(
            path: "/stats", headers: [("Authorization", "Bearer s3cret-token")])
        #expect(allowed.status == 200)
    }

    /// An absolute-form target or a Host naming another machine picks a route, never a
    /// server: the request goes to the route's configured upstream (in origin-form).
    @Test func noRequestChoosesWhereTheGatewayConnects() throws {
        let upstream = try FakeUpstream(handler: .echo)
        let gateway = try gateway(upstream, routes: catchAll)
        let client = try gateway.client()
        try client.send("GET http://169.254.169.254:80/latest/meta-data HTTP/1.1\r\nHost: a\r\n\r\n")
        #expect(try client.readResponse().status == 200)
        try client.send("GET /x HTTP/1.1\r\nHost: 127.0.0.1:22\r\n\r\n")
        #expect(try client.readResponse().status == 200)
        let seen = try upstream.waitForRequests(count: 2)
        #expect(seen[0].target == "/latest/meta-data")
        #expect(seen[0].header("Host") == "169.254.169.254:80")
        #expect(seen[1].target == "/x")

        // CONNECT would open a tunnel to a place of the client's choosing: not implemented.
        let connect = try gateway.client()
        try connect.send("CONNECT 127.0.0.1:22 HTTP/1.1\r\nHost: 127.0.0.1:22\r\n\r\n")
        #expect(try connect.readResponse().status == 501)
        #expect(upstream.receivedRequests.count == 2)

        // With host-matched routes only, another host is no route at all.
        let hostOnly = try self.gateway(
            try FakeUpstream(handler: .echo),
            routes: #"[{"name":"api","match":{"host":"api.example.com"},"upstream":"app"}]"#)
        let other = try hostOnly.client()
        try other.send("GET http://169.254.169.254/ HTTP/1.1\r\nHost: api.example.com\r\n\r\n")
        #expect(try other.readResponse().status == 404)
    }

    /// A client's X-Request-Id is kept only when it is visible ASCII and at most 200 bytes;
    /// any other gets a fresh 32-hex-digit id, on the upstream request and the response.
    @Test func clientRequestIDsAreCheckedBeforeTheyAreKept() throws {
        let upstream = try FakeUpstream(handler: .echo)
        let gateway = try gateway(upstream, routes: catchAll)
        let valid = String(repeating: "a", count: 200)
        let invalid = [String(repeating: "a", count: 201), "has space", "caf\u{e9}", "tab\there"]
        for given in [valid] + invalid {
            let response = try gateway.client().request(path: "/", headers: [("X-Request-Id", given)])
            let sent = try #require(upstream.receivedRequests.last?.header("X-Request-Id"))
            #expect(response.header("X-Request-Id") == sent)
            if given == valid {
                #expect(sent == valid)
            } else {
                #expect(sent != given)
                #expect(sent.count == 32 && sent.allSatisfy { $0.isHexDigit && !$0.isUppercase }, "\(given)")
            }
        }
    }

    /// Error bodies are JSON made of fixed messages: nothing of the request's path or header
    /// values is echoed, and the one client value that is (a valid X-Request-Id, which may
    /// hold `<` and `>`) is escaped, so a browser shown one cannot be fed markup.
    @Test func errorBodiesDoNotEchoClientInput() throws {
        let gateway = try gateway(
            try FakeUpstream(handler: .echo),
            routes: #"[{"name":"api","match":{"pathPrefix":"/api/"},"upstream":"app"}]"#)
        let planted = "<svg/onload=alert(1)>"
        let missing = try gateway.client().request(
            path: "/%3Cscript%3Ealert(1)%3C/script%3E", headers: [("X-Request-Id", planted)])
        #expect(missing.status == 404)
        #expect(missing.header("Content-Type") == "application/json")
        #expect(missing.jsonString("requestId") == planted)
        #expect(!missing.bodyString.contains("<") && !missing.bodyString.contains(">"))
        #expect(!missing.bodyString.contains("script"))

        let malformed = try gateway.client()
        try malformed.send("GET /<b>bold</b> HTTP/1.1\r\nHost: <img src=x>\r\n\r\n")
        let refused = try malformed.readResponse()
        #expect(refused.status == 400)
        #expect(!refused.bodyString.contains("<") && !refused.bodyString.contains("bold"))
    }
}
