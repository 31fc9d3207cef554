import PorticoTesting
import Testing

/// A field that `Connection` names is removed before the gateway adds or extends its own
/// (RFC 9110 §7.6.1), in both directions: neither a client nor an upstream can use
/// `Connection` to smuggle values into, or strip, what the gateway manages.
@Suite(.serialized, .timeLimit(.minutes(1))) struct ConnectionNamedFieldsTests {
    // MARK: Requests

    @Test func namedForwardedForCarriesOnlyThePeer() throws {
        let upstream = try FakeUpstream(handler: .echo)
        let gateway = try GatewayHarness.simple(upstream)
        let response = try TestClient.get(
            port: gateway.port, path: "/",
            headers: [("Connection", "x-forwarded-for"), ("X-Forwarded-For", "198.51.100.7")])
        #expect(response.status == 200)
        let received = try #require(upstream.receivedRequests.first)
        #expect(received.headers("X-Forwarded-For") == ["127.0.0.1"])
    }

    @Test func namedViaCarriesOnlyTheGateway() throws {
        let upstream = try FakeUpstream(handler: .echo)
        let gateway = try GatewayHarness.simple(upstream)
        let response = try TestClient.get(
            port: gateway.port, path: "/", headers: [("Connection", "Via"), ("Via", "1.0 hidden")])
        #expect(response.status == 200)
        let received = try #require(upstream.receivedRequests.first)
        #expect(received.headers("Via") == ["1.1 portico"])
    }

    /// A trusted proxy's X-Forwarded-Proto and -Host are kept, unless its Connection names
    /// them: then the gateway sets its own.
    @Test func namedForwardedProtoAndHostFromATrustedProxyAreSetAnew() throws {
        let upstream = try FakeUpstream(handler: .echo)
        let gateway = try GatewayHarness(
            GatewayHarness.config(
                upstreams: [("app", [upstream.address])],
                routes: #"[{"name":"app","match":{"pathPrefix":"/"},"upstream":"app"}]"#,
                listenerExtra: #","trustedProxies":["127.0.0.1"]"#))
        let response = try TestClient.get(
            port: gateway.port, path: "/",
            headers: [
                ("Connection", "X-Forwarded-Proto"), ("Connection", "X-Forwarded-Host"),
                ("X-Forwarded-Proto", "https"), ("X-Forwarded-Host", "a.test"),
            ])
        #expect(response.status == 200)
        let received = try #require(upstream.receivedRequests.first)
        #expect(received.headers("X-Forwarded-Proto") == ["http"])
        #expect(received.headers("X-Forwarded-Host") == ["test"])
    }

    @Test func namedRequestIDIsReplacedByANewOne() throws {
        let upstream = try FakeUpstream(handler: .echo)
        let gateway = try GatewayHarness.simple(upstream)
        let response = try TestClient.get(
            port: gateway.port, path: "/",
            headers: [("Connection", "X-Request-Id"), ("X-Request-Id", "abc-123")])
        #expect(response.status == 200)
        let received = try #require(upstream.receivedRequests.first)
        let requestID = try #require(received.header("X-Request-Id"))
        #expect(received.headers("X-Request-Id").count == 1)
        #expect(requestID.count == 32 && requestID.allSatisfy { $0.isHexDigit && !$0.isUppercase })
        #expect(response.header("X-Request-Id") == requestID)
    }

    /// A named X-Request-Timeout-Ms does not shorten the deadline: the upstream is told what
    /// is left of the route's budget (a new connection takes a moment), or nothing when the
    /// route has none.
    @Test(arguments: [(30000, 29000...30000), (0, nil)] as [(Int, ClosedRange<Int>?)])
    func namedTimeoutIsIgnored(routeTimeoutMs: Int, forwarded: ClosedRange<Int>?) throws {
        let upstream = try FakeUpstream(handler: .echo)
        let gateway = try GatewayHarness.simple(upstream, route: #""timeoutMs":\#(routeTimeoutMs)"#)
        let response = try TestClient.get(
            port: gateway.port, path: "/",
            headers: [("Connection", "X-Request-Timeout-Ms"), ("X-Request-Timeout-Ms", "150")])
        #expect(response.status == 200)
        let received = try #require(upstream.receivedRequests.first)
        let values = received.headers("X-Request-Timeout-Ms")
        if let forwarded {
            #expect(values.count == 1)
            #expect(values.first.flatMap { Int($0) }.map { forwarded.contains($0) } == true, "\(values)")
        } else {
            #expect(values.isEmpty)
        }
    }

    @Test func namedTimeoutDoesNotCutASlowUpstreamShort() throws {
        let upstream = try FakeUpstream(handler: .delay(.milliseconds(300)))
        let gateway = try GatewayHarness.simple(upstream, route: #""timeoutMs":30000"#)
        let response = try TestClient.get(
            port: gateway.port, path: "/",
            headers: [("Connection", "X-Request-Timeout-Ms"), ("X-Request-Timeout-Ms", "50")])
        #expect(response.status == 200)
    }

    /// Host cannot be removed through Connection: every HTTP/1.1 request carries it (RFC 9112
    /// §3.2), and routing and X-Forwarded-Host use it.
    @Test func namedHostIsStillSent() throws {
        let upstream = try FakeUpstream(handler: .echo)
        let gateway = try GatewayHarness.simple(upstream)
        let response = try TestClient.get(
            port: gateway.port, path: "/", headers: [("Host", "api.test"), ("Connection", "Host")])
        #expect(response.status == 200)
        let received = try #require(upstream.receivedRequests.first)
        #expect(received.headers("Host") == ["api.test"])
        #expect(received.headers("X-Forwarded-Host") == ["api.test"])
    }

    /// Framing fields are written anew from the framing the gateway read, named or not.
    @Test(arguments: [
        [("Connection", "Content-Length")],
        [("Connection", "Transfer-Encoding"), ("Transfer-Encoding", "chunked")],
    ])
    func namedFramingFieldsStillFrameTheBody(headers: [(String, String)]) throws {
        let upstream = try FakeUpstream(handler: .echo)
        let gateway = try GatewayHarness.simple(upstream)
        let chunked = headers.contains { $0.0 == "Transfer-Encoding" }
        let response = try gateway.client().request(
            method: "POST", path: "/", headers: headers, body: chunked ? "5\r\nhello\r\n0\r\n\r\n" : "hello")
        #expect(response.status == 200)
        let received = try #require(upstream.receivedRequests.first)
        #expect(received.bodyString == "hello")
        if chunked {
            #expect(received.wasChunked)
        } else {
            #expect(received.headers("Content-Length") == ["5"])
        }
    }

    /// Expect is the gateway's own business (it answers 100 Continue) and never forwarded.
    @Test func namedExpectIsAnsweredAndNotForwarded() throws {
        let upstream = try FakeUpstream(handler: .echo)
        let gateway = try GatewayHarness.simple(upstream)
        let client = try gateway.client()
        try client.send(
            "POST / HTTP/1.1\r\nHost: test\r\nConnection: Expect\r\nContent-Length: 5\r\n"
                + "Expect: 100-continue\r\n\r\n")
        #expect(try client.readInterimOrFinal().status == 100)
        try client.send("hello")
        #expect(try client.readResponse().status == 200)
        let received = try #require(upstream.receivedRequests.first)
        #expect(received.header("Expect") == nil)
        #expect(received.bodyString == "hello")
    }

    @Test func namedFieldTheRouteSetsKeepsTheRouteValue() throws {
        let upstream = try FakeUpstream(handler: .echo)
        let gateway = try GatewayHarness.simple(
            upstream, route: #""requestHeaders":{"set":{"X-Env":"prod"}}"#)
        let response = try TestClient.get(
            port: gateway.port, path: "/", headers: [("Connection", "X-Env"), ("X-Env", "dev")])
        #expect(response.status == 200)
        #expect(try #require(upstream.receivedRequests.first).headers("X-Env") == ["prod"])
    }

    // MARK: Responses

    @Test func namedResponseViaCarriesOnlyTheGateway() throws {
        let upstream = try FakeUpstream(
            handler: .status(200, body: "ok", headers: [("Connection", "Via"), ("Via", "1.1 hidden")]))
        let gateway = try GatewayHarness.simple(upstream)
        let response = try TestClient.get(port: gateway.port, path: "/")
        #expect(response.status == 200)
        #expect(response.headers("Via") == ["1.1 portico"])
    }

    @Test func namedResponseDateIsReplacedByTheGateways() throws {
        let stale = "Mon, 01 Jan 2001 00:00:00 GMT"
        let upstream = try FakeUpstream(
            handler: .status(200, body: "ok", headers: [("Connection", "date"), ("Date", stale)]))
        let gateway = try GatewayHarness.simple(upstream)
        let response = try TestClient.get(port: gateway.port, path: "/")
        #expect(response.status == 200)
        let dates = response.headers("Date")
        #expect(dates.count == 1)
        #expect(dates.first != stale)
        #expect(dates.first?.hasSuffix(" GMT") == true)
    }

    @Test func namedResponseRequestIDIsTheGateways() throws {
        let upstream = try FakeUpstream(
            handler: .status(
                200, body: "ok", headers: [("Connection", "X-Request-Id"), ("X-Request-Id", "from-upstream")])
        )
        let gateway = try GatewayHarness.simple(upstream)
        let response = try TestClient.get(port: gateway.port, path: "/")
        #expect(response.status == 200)
        let sent = try #require(upstream.receivedRequests.first?.header("X-Request-Id"))
        #expect(response.headers("X-Request-Id") == [sent])
    }

    @Test func namedResponseContentLengthStillFramesTheBody() throws {
        let upstream = try FakeUpstream(
            handler: .status(200, body: "hello", headers: [("Connection", "Content-Length")]))
        let gateway = try GatewayHarness.simple(upstream)
        let client = try gateway.client()
        let response = try client.request(path: "/")
        #expect(response.status == 200)
        #expect(response.headers("Content-Length") == ["5"])
        #expect(response.bodyString == "hello")
        // The connection is still in step: a second exchange works.
        #expect(try client.request(path: "/again").bodyString == "hello")
    }

    @Test func namedFieldTheRouteSetsOnResponsesKeepsTheRouteValue() throws {
        let upstream = try FakeUpstream(
            handler: .status(
                200, body: "ok", headers: [("Connection", "X-Served-By"), ("X-Served-By", "upstream")]))
        let gateway = try GatewayHarness.simple(
            upstream, route: #""responseHeaders":{"set":{"X-Served-By":"portico"}}"#)
        let response = try TestClient.get(port: gateway.port, path: "/")
        #expect(response.status == 200)
        #expect(response.headers("X-Served-By") == ["portico"])
    }

    @Test func namedFieldOfAnInterimResponseIsRemoved() throws {
        let upstream = try FakeUpstream { request, writer in
            try writer.writeInterim(
                status: 103,
                headers: [("Connection", "Link"), ("Link", "</a.css>; rel=preload"), ("X-Hint", "1")])
            try FakeHandler.echo.respond(request, writer)
        }
        let gateway = try GatewayHarness.simple(upstream)
        let response = try TestClient.get(port: gateway.port, path: "/")
        #expect(response.status == 200)
        let interim = try #require(response.interim.first)
        #expect(interim.status == 103)
        #expect(interim.header("Link") == nil)
        #expect(interim.header("X-Hint") == "1")
    }
}
