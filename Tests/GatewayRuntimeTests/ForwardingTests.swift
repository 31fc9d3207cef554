import PorticoTesting
import Testing

@Suite(.serialized, .timeLimit(.minutes(1))) struct ForwardingTests {
    @Test func forwardsRequestWithProxyHeadersAndRewrite() throws {
        let upstream = try FakeUpstream(handler: .echo)
        let gateway = try GatewayHarness(
            GatewayHarness.config(
                upstreams: [("users", [upstream.address])],
                routes: """
                    [{"name":"users","match":{"pathPrefix":"/users"},"upstream":"users","prefixRewrite":"/v2",
                      "requestHeaders":{"set":{"X-Env":"prod"},"remove":["X-Debug"]},
                      "responseHeaders":{"set":{"X-Served-By":"portico"}}}]
                    """))
        let response = try TestClient.get(
            port: gateway.port, path: "/users/42?x=1",
            headers: [("X-Debug", "1"), ("X-Forwarded-For", "10.0.0.1"), ("X-Forwarded-Proto", "https")])
        #expect(response.status == 200)
        let received = try #require(upstream.receivedRequests.first)
        #expect(received.target == "/v2/42?x=1")
        #expect(received.header("Host") == "test")
        #expect(received.header("X-Env") == "prod")
        #expect(received.header("X-Debug") == nil)
        #expect(received.header("X-Forwarded-For") == "10.0.0.1, 127.0.0.1")
        #expect(received.header("X-Forwarded-Proto") == "http")
        #expect(received.header("X-Forwarded-Host") == "test")
        #expect(received.header("Via") == "1.1 portico")
        let requestID = try #require(received.header("X-Request-Id"))
        #expect(requestID.count == 32 && requestID.allSatisfy { $0.isHexDigit && !$0.isUppercase })
        #expect(response.header("X-Request-Id") == requestID)
        #expect(response.header("Via") == "1.1 portico")
        #expect(response.header("Date") != nil)
        #expect(response.header("X-Served-By") == "portico")
    }

    @Test func keepsValidClientRequestID() throws {
        let upstream = try FakeUpstream(handler: .echo)
        let gateway = try GatewayHarness.simple(upstream)
        let response = try TestClient.get(
            port: gateway.port, path: "/", headers: [("X-Request-Id", "abc-123")])
        #expect(response.header("X-Request-Id") == "abc-123")
        #expect(upstream.receivedRequests.first?.header("X-Request-Id") == "abc-123")
    }

    @Test func reusesOneUpstreamConnectionForSequentialRequests() throws {
        let upstream = try FakeUpstream(handler: .echo)
        let gateway = try GatewayHarness.simple(upstream)
        let client = try gateway.client()
        for index in 0..<5 {
            let response = try client.request(path: "/item/\(index)")
            #expect(response.status == 200)
        }
        // A second client connection reuses the same pooled upstream connection too.
        #expect(try TestClient.get(port: gateway.port, path: "/again").status == 200)
        #expect(upstream.acceptedConnections == 1)
        #expect(upstream.receivedRequests.map(\.connectionIndex) == Array(repeating: 0, count: 6))
    }

    @Test func stripsHopByHopFieldsAndThoseNamedInConnection() throws {
        let upstream = try FakeUpstream(
            handler: .status(
                200, body: "ok",
                headers: [
                    ("Connection", "X-Internal"), ("X-Internal", "secret"),
                    ("Keep-Alive", "timeout=5"),
                ]))
        let gateway = try GatewayHarness.simple(upstream)
        let response = try TestClient.get(
            port: gateway.port, path: "/",
            headers: [
                ("Connection", "X-Custom, Upgrade"), ("X-Custom", "drop"), ("Upgrade", "h2c"),
                ("TE", "trailers"), ("Proxy-Authorization", "Basic x"),
            ])
        #expect(response.status == 200)
        let received = try #require(upstream.receivedRequests.first)
        for name in ["X-Custom", "Upgrade", "TE", "Proxy-Authorization", "Connection"] {
            #expect(received.header(name) == nil, "\(name) reached the upstream")
        }
        #expect(response.header("X-Internal") == nil)
        #expect(response.header("Keep-Alive") == nil)
    }

    @Test func forwardsAbsoluteFormInOriginFormWithItsHost() throws {
        let upstream = try FakeUpstream(handler: .echo)
        let gateway = try GatewayHarness.simple(upstream)
        let client = try gateway.client()
        try client.send("GET http://example.com/a/b?q=1 HTTP/1.1\r\nHost: other.test\r\n\r\n")
        #expect(try client.readResponse().status == 200)
        let received = try #require(upstream.receivedRequests.first)
        #expect(received.target == "/a/b?q=1")
        #expect(received.header("Host") == "example.com")
    }

    @Test func resolvesDotSegmentsBeforeRouting() throws {
        let upstream = try FakeUpstream(handler: .echo)
        let gateway = try GatewayHarness.simple(upstream)
        #expect(try TestClient.get(port: gateway.port, path: "/a/./b/../c").status == 200)
        #expect(upstream.receivedRequests.first?.target == "/a/c")
        let escaping = try TestClient.get(port: gateway.port, path: "/../etc/passwd")
        #expect(escaping.status == 400)
        #expect(escaping.jsonString("error") == "bad_request")
    }

    @Test func servesHeadWithoutBody() throws {
        let upstream = try FakeUpstream(handler: .status(200, body: "hello"))
        let gateway = try GatewayHarness.simple(upstream)
        let client = try gateway.client()
        let response = try client.request(method: "HEAD", path: "/")
        #expect(response.status == 200)
        #expect(response.body.isEmpty)
        #expect(try client.request(path: "/next").status == 200)
    }

    @Test func answersExpectContinueItself() throws {
        let upstream = try FakeUpstream(handler: .echo)
        let gateway = try GatewayHarness.simple(upstream)
        let client = try gateway.client()
        try client.send(
            "POST /upload HTTP/1.1\r\nHost: test\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
        let interim = try client.readInterimOrFinal()
        #expect(interim.status == 100)
        try client.send("hello")
        let response = try client.readResponse()
        #expect(response.status == 200)
        let received = try #require(upstream.receivedRequests.first)
        #expect(received.header("Expect") == nil)
        #expect(received.bodyString == "hello")
    }

    @Test func forwardsEarlyHintsButNotUpstream100() throws {
        let upstream = try FakeUpstream(handler: .interim([100, 103]))
        let gateway = try GatewayHarness.simple(upstream)
        let client = try gateway.client()
        try client.sendRequest(path: "/")
        let response = try client.readResponse()
        #expect(response.status == 200)
        #expect(response.interim.map(\.status) == [103])
    }

    @Test func answersPipelinedRequestsInOrder() throws {
        let upstream = try FakeUpstream(handler: .echo)
        let gateway = try GatewayHarness.simple(upstream)
        let client = try gateway.client()
        try client.send(
            "GET /one HTTP/1.1\r\nHost: test\r\n\r\nGET /two HTTP/1.1\r\nHost: test\r\n\r\n"
                + "GET /three HTTP/1.1\r\nHost: test\r\n\r\n")
        for path in ["/one", "/two", "/three"] {
            let response = try client.readResponse()
            #expect(response.status == 200)
            #expect(response.bodyString.contains("\"\(path)\""))
        }
    }

    @Test func servesHTTP10ClientsAndClosesWithoutKeepAlive() throws {
        let upstream = try FakeUpstream(handler: .chunked(["hello ", "world"]))
        let gateway = try GatewayHarness.simple(upstream)
        let client = try gateway.client()
        try client.send("GET / HTTP/1.0\r\n\r\n")
        let response = try client.readResponse()
        #expect(response.status == 200)
        #expect(response.bodyString == "hello world")
        #expect(!response.wasChunked)
        #expect(client.isClosedByPeer())
    }

    @Test func directResponseRouteAnswersWithoutUpstream() throws {
        let gateway = try GatewayHarness(
            GatewayHarness.config(
                upstreams: [("app", ["127.0.0.1:9"])],
                routes: """
                    [{"name":"health","match":{"path":"/healthz"},
                      "directResponse":{"status":200,"body":"ok","contentType":"text/plain"}}]
                    """))
        let response = try TestClient.get(port: gateway.port, path: "/healthz")
        #expect(response.status == 200)
        #expect(response.bodyString == "ok")
        #expect(response.header("Content-Type") == "text/plain")
    }

    /// An upstream answer with `Content-Length: 0` is complete with its head: the next
    /// request on the same client connection goes straight through, over the pooled
    /// upstream connection.
    @Test func emptyBodyResponseCompletesAtOnce() throws {
        let upstream = try FakeUpstream(handler: .status(200, body: ""))
        let gateway = try GatewayHarness.simple(upstream, timeouts: #"{"idleMs":30000}"#)
        let client = try gateway.client()
        for index in 0..<3 {
            let response = try client.request(path: "/empty/\(index)", timeout: .seconds(5))
            #expect(response.status == 200)
            #expect(response.header("Content-Length") == "0")
            #expect(response.body.isEmpty)
        }
        #expect(upstream.acceptedConnections == 1)
    }

    /// Requests pipelined behind one the gateway answers itself (a direct route, a 404) are
    /// served in order, not left in the buffer until the header timeout.
    @Test func pipelinedRequestsBehindGatewayAnswersAreServed() throws {
        let upstream = try FakeUpstream(handler: .echo)
        let gateway = try GatewayHarness(
            GatewayHarness.config(
                upstreams: [("app", [upstream.address])],
                routes: """
                    [{"name":"health","match":{"path":"/healthz"},"directResponse":{"status":200,"body":"ok"}},
                     {"name":"app","match":{"pathPrefix":"/app"},"upstream":"app"}]
                    """))
        let client = try gateway.client()
        try client.send(
            "GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n" + "GET /missing HTTP/1.1\r\nHost: t\r\n\r\n"
                + "GET /app/x HTTP/1.1\r\nHost: t\r\n\r\n" + "GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
        let statuses = try (0..<4).map { _ in try client.readResponse(timeout: .seconds(5)).status }
        #expect(statuses == [200, 404, 200, 200])
    }

    /// An upstream field folded over several lines (obs-fold) reaches the client on one line,
    /// each fold and the whitespace around it replaced by one space (RFC 9112 §5.2).
    @Test func foldedResponseFieldIsUnfolded() throws {
        let upstream = try FakeUpstream(
            handler: FakeHandler { _, writer in
                try writer.write(
                    Array(
                        "HTTP/1.1 200 OK\r\nX-Folded: first \r\n  second\r\n\tthird\r\nContent-Length: 2\r\n\r\nok"
                            .utf8))
            })
        let gateway = try GatewayHarness.simple(upstream)
        let response = try TestClient.get(port: gateway.port, path: "/")
        #expect(response.status == 200)
        #expect(response.header("X-Folded") == "first second third")
        #expect(response.bodyString == "ok")
    }
}
