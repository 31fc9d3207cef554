import Glibc
import PorticoTesting
import Testing

@Suite(.serialized, .timeLimit(.minutes(1))) struct GatewayErrorTests {
    private func expectGatewayError(_ response: TestResponse, status: Int, code: String) {
        #expect(response.status == status)
        #expect(response.header("X-Gateway-Error") == code)
        #expect(response.header("Content-Type") == "application/json")
        #expect(response.jsonString("error") == code)
        #expect(response.jsonString("message") != nil)
        #expect(response.jsonString("requestId") == response.header("X-Request-Id"))
    }

    @Test func unknownPathIsNoRoute() throws {
        let upstream = try FakeUpstream(handler: .echo)
        let gateway = try GatewayHarness(
            GatewayHarness.config(
                upstreams: [("app", [upstream.address])],
                routes: #"[{"name":"api","match":{"pathPrefix":"/api"},"upstream":"app"}]"#))
        let client = try gateway.client()
        expectGatewayError(try client.request(path: "/apix"), status: 404, code: "no_route")
        #expect(try client.request(path: "/api/v1").status == 200)
    }

    @Test func refusedConnectionIsConnectFailed() throws {
        let closedPort = try ProcessRunner.freePort()
        let gateway = try GatewayHarness(
            GatewayHarness.config(
                upstreams: [("app", ["127.0.0.1:\(closedPort)"])],
                routes: #"[{"name":"app","match":{"pathPrefix":"/"},"upstream":"app"}]"#))
        expectGatewayError(
            try TestClient.get(port: gateway.port, path: "/"), status: 502, code: "upstream_connect_failed")
    }

    @Test func resetBeforeResponseIsUpstreamReset() throws {
        let upstream = try FakeUpstream(handler: .reset)
        let gateway = try GatewayHarness.simple(upstream)
        expectGatewayError(
            try TestClient.get(port: gateway.port, path: "/"), status: 502, code: "upstream_reset")
    }

    @Test func partialHeadThenCloseIsUpstreamReset() throws {
        let upstream = try FakeUpstream(handler: .partialHeadThenClose)
        let gateway = try GatewayHarness.simple(upstream)
        expectGatewayError(
            try TestClient.get(port: gateway.port, path: "/"), status: 502, code: "upstream_reset")
    }

    @Test func malformedResponseIsBadResponse() throws {
        let upstream = try FakeUpstream(handler: .malformed)
        let gateway = try GatewayHarness.simple(upstream)
        expectGatewayError(
            try TestClient.get(port: gateway.port, path: "/"), status: 502, code: "upstream_bad_response")
    }

    @Test func resetMidBodyTruncatesTheResponse() throws {
        let upstream = try FakeUpstream(handler: .resetMidBody(bodyBytes: 10_000, sentBytes: 100))
        let gateway = try GatewayHarness.simple(upstream)
        let client = try gateway.client()
        try client.sendRequest(path: "/")
        let head = try client.readHead()
        #expect(head.status == 200)
        #expect(client.isClosedByPeer())
    }

    @Test func slowUpstreamHitsRouteDeadline() throws {
        let latch = try TestLatch()
        defer { latch.open() }
        let upstream = try FakeUpstream(handler: .waitFor(latch))
        let gateway = try GatewayHarness.simple(upstream, route: #""timeoutMs":200"#)
        let response = try TestClient.get(port: gateway.port, path: "/")
        expectGatewayError(response, status: 504, code: "deadline_exceeded")
        #expect(upstream.receivedRequests.first?.header("X-Request-Timeout-Ms") != nil)
    }

    @Test func clientTimeoutHeaderShortensTheDeadline() throws {
        let latch = try TestLatch()
        defer { latch.open() }
        let upstream = try FakeUpstream(handler: .waitFor(latch))
        let gateway = try GatewayHarness.simple(upstream, route: #""timeoutMs":30000"#)
        let response = try TestClient.get(
            port: gateway.port, path: "/", headers: [("X-Request-Timeout-Ms", "150")])
        expectGatewayError(response, status: 504, code: "deadline_exceeded")
    }

    @Test func incompleteHeaderIsRequestTimeout() throws {
        let upstream = try FakeUpstream(handler: .echo)
        let gateway = try GatewayHarness.simple(upstream, timeouts: #"{"requestHeaderMs":200}"#)
        let client = try gateway.client()
        try client.send("GET / HTTP/1.1\r\nHost: te")
        let response = try client.readResponse()
        expectGatewayError(response, status: 408, code: "request_timeout")
        #expect(client.isClosedByPeer())
    }

    @Test func idleKeepAliveConnectionIsClosed() throws {
        let upstream = try FakeUpstream(handler: .echo)
        let gateway = try GatewayHarness.simple(upstream, timeouts: #"{"idleMs":200}"#)
        let client = try gateway.client()
        #expect(try client.request(path: "/").status == 200)
        #expect(client.isClosedByPeer(within: .seconds(5)))
    }

    @Test(arguments: [
        ("GET / HTTP/1.1\nHost: a\r\n\r\n", 400, "bad_request"),
        (
            "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", 400,
            "bad_request"
        ),
        ("GET / HTTP/1.1\r\n\r\n", 400, "bad_request"),
        ("GET / HTTP/1.1\r\nHost: a\r\nX: 1\r\n  folded\r\n\r\n", 400, "bad_request"),
        ("GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505, "version_not_supported"),
        ("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: snappy\r\n\r\n", 501, "not_implemented"),
        ("CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n", 501, "not_implemented"),
        (
            "GET /" + String(repeating: "a", count: 20_000) + " HTTP/1.1\r\nHost: a\r\n\r\n", 414,
            "uri_too_long"
        ),
        (
            "GET / HTTP/1.1\r\nHost: a\r\nX-Big: " + String(repeating: "b", count: 20_000) + "\r\n\r\n", 431,
            "headers_too_large"
        ),
    ])
    func malformedRequestsAreRefusedAndClosed(raw: String, status: Int, code: String) throws {
        let upstream = try FakeUpstream(handler: .echo)
        let gateway = try GatewayHarness.simple(upstream)
        let client = try gateway.client()
        try client.send(raw)
        expectGatewayError(try client.readResponse(), status: status, code: code)
        #expect(client.isClosedByPeer())
        #expect(upstream.receivedRequests.isEmpty)
    }

    @Test func oversizedBodyIsPayloadTooLarge() throws {
        let upstream = try FakeUpstream(handler: .echo)
        let gateway = try GatewayHarness.simple(upstream, limits: #"{"maxRequestBodyBytes":10}"#)
        let client = try gateway.client()
        try client.send("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\nhello world")
        expectGatewayError(try client.readResponse(), status: 413, code: "payload_too_large")
        #expect(upstream.receivedRequests.isEmpty)
    }
}

/// A malformed upstream body that arrives before any byte of the response head reached the
/// client: the client still gets a gateway error instead of an empty reply.
@Suite(.serialized, .timeLimit(.minutes(1))) struct BadUpstreamBodyTests {
    @Test(arguments: [
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloXX\r\n0\r\n\r\n",
    ])
    func aMalformedBodyWithTheHeadIsA502(response: String) throws {
        let upstream = try FakeUpstream { _, writer in
            try writer.write(response)
            writer.close()
        }
        defer { upstream.stop() }
        let gateway = try GatewayHarness.simple(upstream)
        let client = try gateway.client()
        let answer = try client.request(path: "/")
        #expect(answer.status == 502)
        #expect(answer.header("X-Gateway-Error") == "upstream_bad_response")
        #expect(answer.bodyString.contains(#""error":"upstream_bad_response""#))
        // The connection stays usable: the client's own request was fine.
        #expect(try client.request(path: "/again").status == 502)
    }
}
