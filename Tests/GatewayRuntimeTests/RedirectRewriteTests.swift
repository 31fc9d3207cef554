import PorticoTesting
import Testing

@Suite(.serialized, .timeLimit(.minutes(1))) struct RedirectRewriteTests {
    /// A gateway whose route "files" (`pathPrefix: /files`, plus `routeFields`) goes to
    /// `upstream`, and whose route "plain" (`pathPrefix: /plain`, no rewrite) goes there too.
    private func gateway(_ upstream: FakeUpstream, routeFields: String) throws -> GatewayHarness {
        try GatewayHarness(
            GatewayHarness.config(
                upstreams: [("app", [upstream.address])],
                routes: """
                    [{"name":"files","match":{"pathPrefix":"/files"},"upstream":"app",\(routeFields)},
                     {"name":"plain","match":{"pathPrefix":"/plain"},"upstream":"app"}]
                    """))
    }

    /// (route fields, client's Host, Location from the upstream, Location the client sees).
    @Test(arguments: [
        (#""prefixRewrite":"/""#, "test", "/sub/", "/files/sub/"),
        (#""prefixRewrite":"/""#, "test", "/", "/files"),
        (#""prefixRewrite":"/""#, "test", "/a?next=/b#top", "/files/a?next=/b#top"),
        (
            #""prefixRewrite":"/""#, "gw.example:8080", "http://gw.example:8080/sub/?a=1",
            "http://gw.example:8080/files/sub/?a=1"
        ),
        (
            #""prefixRewrite":"/""#, "gw.example:8080", "HTTP://GW.EXAMPLE:8080/s",
            "HTTP://gw.example:8080/files/s"
        ),
        (#""prefixRewrite":"/""#, "gw.example", "//gw.example/sub/", "//gw.example/files/sub/"),
        (
            #""prefixRewrite":"/""#, "gw.example", "http://elsewhere.example/sub/",
            "http://elsewhere.example/sub/"
        ),
        (#""prefixRewrite":"/""#, "gw.example", "http://gw.example:8080/sub/", "http://gw.example:8080/sub/"),
        (#""prefixRewrite":"/""#, "test", "sub/x", "sub/x"),
        (#""prefixRewrite":"/v2""#, "test", "/v2x/y", "/v2x/y"),
        (#""prefixRewrite":"/","redirectRewrite":false"#, "test", "/sub/", "/sub/"),
        (
            #""prefixRewrite":"/","redirectRewrite":false"#, "gw.example", "http://gw.example/sub/",
            "http://gw.example/sub/"
        ),
        (
            #""prefixRewrite":"/v2","hostRewrite":"backend.internal""#, "gw.example",
            "http://backend.internal/v2/sub", "http://gw.example/files/sub"
        ),
        (
            #""hostRewrite":"backend.internal:9000""#, "gw.example", "http://backend.internal:9000/files/a",
            "http://gw.example/files/a"
        ),
        (#""hostRewrite":"backend.internal:9000""#, "gw.example", "/a", "/a"),
    ])
    func mapsTheUpstreamsLocationBackToTheRoute(
        routeFields: String, host: String, location: String, expected: String
    ) throws {
        let upstream = try FakeUpstream(handler: .status(302, headers: [("Location", location)]))
        let gateway = try gateway(upstream, routeFields: routeFields)
        let response = try TestClient.get(port: gateway.port, path: "/files/x", headers: [("Host", host)])
        #expect(response.status == 302)
        #expect(response.headers("Location") == [expected])
    }

    @Test func forwardsTheRewrittenPathAndMapsBothFields() throws {
        let upstream = try FakeUpstream(
            handler: .status(
                201, body: "made",
                headers: [
                    ("Location", "/sub/"), ("Content-Location", "/sub/1"), ("X-Location", "/sub/"),
                    ("Location", "/other"),
                ]))
        let gateway = try gateway(upstream, routeFields: #""prefixRewrite":"/""#)
        let response = try TestClient.get(port: gateway.port, path: "/files/x")
        #expect(upstream.receivedRequests.first?.target == "/x")
        #expect(response.status == 201)
        #expect(response.headers("Location") == ["/files/sub/", "/files/other"])
        #expect(response.header("Content-Location") == "/files/sub/1")
        #expect(response.header("X-Location") == "/sub/")
        #expect(response.bodyString == "made")
    }

    /// Exchanges are reused across requests: the Host kept for one route must not leak into
    /// the next, nor be missing when a rewriting route follows a plain one.
    @Test func appliesPerRouteOnOneConnection() throws {
        let upstream = try FakeUpstream(
            handler: .status(302, headers: [("Location", "http://gw.example/sub/")]))
        let gateway = try gateway(upstream, routeFields: #""prefixRewrite":"/""#)
        let client = try gateway.client()
        let host = [("Host", "gw.example")]
        let first = try client.request(path: "/plain/x", headers: host)
        #expect(first.header("Location") == "http://gw.example/sub/")
        let second = try client.request(path: "/files/x", headers: host)
        #expect(second.header("Location") == "http://gw.example/files/sub/")
        let third = try client.request(path: "/plain/y", headers: host)
        #expect(third.header("Location") == "http://gw.example/sub/")
        let fourth = try client.request(path: "/files/y", headers: [("Host", "other.example")])
        #expect(fourth.header("Location") == "http://gw.example/sub/")
    }

    /// An HTTP/1.0 request without Host: paths still map, absolute URIs have no host to map to.
    @Test(arguments: [("/sub/", "/files/sub/"), ("http://gw.example/sub/", "http://gw.example/sub/")])
    func mapsOnlyPathsWithoutAHost(location: String, expected: String) throws {
        let upstream = try FakeUpstream(handler: .status(302, headers: [("Location", location)]))
        let gateway = try gateway(upstream, routeFields: #""prefixRewrite":"/""#)
        let client = try gateway.client()
        try client.send("GET /files/x HTTP/1.0\r\n\r\n")
        let response = try client.readResponse()
        #expect(response.status == 302)
        #expect(response.header("Location") == expected)
    }
}
