import PorticoTesting
import Testing

/// Pooled upstream connections the server has closed: many servers close a keep-alive
/// connection after a response without saying `Connection: close` (HTTP/1.0-style servers,
/// short keep-alive timeouts, load balancers). Such a connection is never handed out once
/// its close was seen, and a request that meets one anyway (the close crossed it on the
/// wire) goes out once more on a new connection when that is safe.
@Suite(.serialized, .timeLimit(.minutes(1))) struct StaleConnectionTests {
    /// Answers, then closes its side of the connection without announcing it (like a
    /// server that does `sendall(response); shutdown(SHUT_WR)`).
    static let answerThenClose = FakeHandler { _, writer in
        try writer.writeResponse(status: 200, body: "ok")
        writer.close()
    }

    /// The same, with the close in the response's last segment.
    static let answerWithClose = FakeHandler { _, writer in
        try writer.writeAndClose(Array("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok".utf8))
    }

    /// Reads the request, then closes without a byte of response: the server had timed the
    /// idle connection out just as the request arrived.
    static let closeWithoutAnswer = FakeHandler { _, writer in writer.close() }

    private func gateway(_ upstream: FakeUpstream) throws -> GatewayHarness {
        try GatewayHarness(
            GatewayHarness.config(
                upstreams: [("app", [upstream.address])],
                routes: #"[{"name":"app","match":{"pathPrefix":"/"},"upstream":"app"}]"#,
                admin: #"{"address":"127.0.0.1:0"}"#))
    }

    private func serverStats(_ gateway: GatewayHarness, _ upstream: FakeUpstream) throws -> TestJSON? {
        let stats = try gateway.adminClient().request(path: "/stats").json()
        return stats["upstreams"]?["app"]?["servers"]?[upstream.address]
    }

    @Test func aServerClosingAfterEveryResponseFailsNoRequest() throws {
        let upstream = try FakeUpstream(handler: Self.answerThenClose)
        defer { upstream.stop() }
        let gateway = try gateway(upstream)
        var statuses: [Int: Int] = [:]
        for _ in 0..<200 {
            statuses[try TestClient.get(port: gateway.port, path: "/").status, default: 0] += 1
        }
        #expect(statuses == [200: 200])
        #expect(upstream.acceptedConnections == 200, "every connection carried one request")
        let server = try serverStats(gateway, upstream)
        #expect(server?["failures"]?.intValue == 0)
    }

    @Test func aConnectionWhoseCloseCameWithTheResponseIsNeverHandedOut() throws {
        let upstream = try FakeUpstream(handler: Self.answerWithClose)
        defer { upstream.stop() }
        let gateway = try gateway(upstream)
        let client = try gateway.client()
        for _ in 0..<50 {
            #expect(try client.request(path: "/").status == 200)
        }
        #expect(upstream.acceptedConnections == 50)
        let server = try serverStats(gateway, upstream)
        // Dropped when the response completed, not handed out and found dead.
        #expect(server?["staleReuses"]?.intValue == 0)
        #expect(server?["idleConnections"]?.intValue == 0)
    }

    @Test func aRequestMeetingAClosedConnectionGoesOutOnceMoreOnANewOne() throws {
        let upstream = try FakeUpstream(handler: .sequence([.echo, Self.closeWithoutAnswer, .echo]))
        defer { upstream.stop() }
        let gateway = try gateway(upstream)
        let client = try gateway.client()
        #expect(try client.request(path: "/first").status == 200)
        let second = try client.request(path: "/second")
        #expect(second.status == 200)
        #expect(second.header("X-Gateway-Error") == nil)
        let received = upstream.receivedRequests
        #expect(received.map(\.target) == ["/first", "/second", "/second"])
        #expect(received.map(\.connectionIndex) == [0, 0, 1])
        let server = try serverStats(gateway, upstream)
        #expect(server?["staleReuses"]?.intValue == 1)
        #expect(server?["failures"]?.intValue == 0)
        #expect(server?["requests"]?.intValue == 2, "a resend is not another attempt")
    }

    @Test func aPostWithoutBodyIsSentAgainButOneWhoseBodyWentOutIsNot() throws {
        let upstream = try FakeUpstream(
            handler: .sequence([.echo, Self.closeWithoutAnswer, .echo, Self.closeWithoutAnswer, .echo]))
        defer { upstream.stop() }
        let gateway = try gateway(upstream)
        let client = try gateway.client()
        #expect(try client.request(path: "/first").status == 200)
        // Nothing of a body was consumed: safe to send again.
        let empty = try client.request(method: "POST", path: "/empty", headers: [("Content-Length", "0")])
        #expect(empty.status == 200)
        // Its body left the gateway on the stale connection and is gone: not replayable.
        let posted = try client.request(method: "POST", path: "/posted", body: "hello")
        #expect(posted.status == 502)
        #expect(posted.header("X-Gateway-Error") == "upstream_reset")
        let server = try serverStats(gateway, upstream)
        #expect(server?["staleReuses"]?.intValue == 1)
    }

    /// An idempotent request's body is kept (up to 64 KiB) while it goes out, so meeting a
    /// stale connection does not lose it: it is sent again, whole, on the new connection.
    @Test func anIdempotentRequestWithABodyIsResentWithItsBody() throws {
        let upstream = try FakeUpstream(handler: .sequence([.echo, Self.closeWithoutAnswer, .echo]))
        defer { upstream.stop() }
        let gateway = try gateway(upstream)
        let client = try gateway.client()
        #expect(try client.request(path: "/first").status == 200)
        let body = String(repeating: "0123456789", count: 2000)
        let put = try client.request(method: "PUT", path: "/put", body: body)
        #expect(put.status == 200)
        let received = upstream.receivedRequests
        #expect(received.map(\.connectionIndex) == [0, 0, 1])
        #expect(received.last.map { String(decoding: $0.body, as: UTF8.self) } == body)
        let server = try serverStats(gateway, upstream)
        #expect(server?["staleReuses"]?.intValue == 1)
    }
}
