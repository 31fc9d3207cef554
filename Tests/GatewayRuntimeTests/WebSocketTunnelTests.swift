import Glibc
import PorticoTesting
import Synchronization
import Testing

/// WebSocket upgrades (docs/configuration.md, "WebSocket"): forwarded with the upgrade
/// fields; after a 101 the gateway carries bytes both ways until either side closes or
/// idleMs passes. Other upgrades go out as plain requests.
@Suite(.serialized, .timeLimit(.minutes(1))) struct WebSocketTunnelTests {
    private static let upgradeHeaders = [
        ("Connection", "Upgrade"), ("Upgrade", "websocket"),
        ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="), ("Sec-WebSocket-Version", "13"),
    ]

    /// Answers an upgrade request with 101 (what a WebSocket server says), then `then`.
    private static func switching(then: @escaping @Sendable (FakeConnectionWriter) throws -> Void)
        -> FakeHandler
    {
        FakeHandler { request, writer in
            guard request.header("Upgrade") == "websocket" else {
                try writer.writeResponse(status: 400, body: "no upgrade asked")
                return
            }
            try writer.writeInterim(
                status: 101, reason: "Switching Protocols",
                headers: [
                    ("Upgrade", "websocket"), ("Connection", "Upgrade"),
                    ("Sec-WebSocket-Accept", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="),
                ])
            try then(writer)
        }
    }

    private func openTunnel(_ gateway: GatewayHarness) throws -> TestClient {
        let client = try TestClient(port: gateway.port)
        try client.sendRequest(method: "GET", path: "/chat", headers: Self.upgradeHeaders)
        let head = try client.readInterimOrFinal()
        #expect(head.status == 101)
        #expect(head.header("Upgrade") == "websocket")
        #expect(head.header("Connection")?.lowercased() == "upgrade")
        #expect(head.header("Sec-WebSocket-Accept") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
        #expect(head.header("Via") == "1.1 portico")
        #expect(head.header("X-Request-Id") != nil)
        return client
    }

    @Test func bytesGoBothWaysUntilTheClientCloses() throws {
        let echoed = Atomic<Int>(0)
        let upstream = try FakeUpstream(
            handler: Self.switching { writer in echoed.store(try writer.echoRaw(), ordering: .relaxed) })
        defer { upstream.stop() }
        // The request's deadline ends with the 101: a tunnel outlives timeoutMs.
        let gateway = try GatewayHarness.simple(upstream, route: #""timeoutMs":200"#)
        let client = try openTunnel(gateway)
        let request = try #require(upstream.receivedRequests.first)
        #expect(request.header("Connection")?.lowercased() == "upgrade")
        #expect(request.header("Sec-WebSocket-Key") == "dGhlIHNhbXBsZSBub25jZQ==")

        // A masked text frame "hello", as a browser sends it, and its echo.
        let frame: [UInt8] = [0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58]
        try client.send(frame)
        #expect(try client.readBytes(count: frame.count) == frame)
        usleep(300_000)  // past timeoutMs
        // More than fits the gateway's buffers at once: the relay waits for each side.
        let large = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        try client.send(large)
        #expect(try client.readBytes(count: large.count) == large)

        client.close()
        try upstream.waitForOpenConnections(atMost: 0)
        #expect(echoed.load(ordering: .relaxed) == frame.count + large.count)
    }

    /// Bytes a client sends right behind its request wait for the 101, then go through.
    @Test func bytesSentAheadOfThe101FollowIt() throws {
        let upstream = try FakeUpstream(handler: Self.switching { writer in try writer.echoRaw(until: 4) })
        defer { upstream.stop() }
        let gateway = try GatewayHarness.simple(upstream)
        let client = try TestClient(port: gateway.port)
        let head = Self.upgradeHeaders.map { "\($0.0): \($0.1)\r\n" }.joined()
        try client.send("GET /chat HTTP/1.1\r\nHost: test\r\n\(head)\r\nping")
        #expect(try client.readInterimOrFinal().status == 101)
        #expect(try client.readBytes(count: 4) == Array("ping".utf8))
        #expect(client.isClosedByPeer(), "the upstream closed after its echo")
    }

    /// An upstream that reads slowly holds the client back (bounded buffers), and a client
    /// that ends its side after a large upload gets all of it through: the upstream sees the
    /// end only after the last byte, and can still answer.
    @Test func aLargeUploadThenTheClientsEndReachTheUpstreamWhole() throws {
        let upstream = try FakeUpstream(
            handler: Self.switching { writer in
                try writer.pause(.milliseconds(300))
                let received = try writer.countRawUntilEnd()
                try writer.writeAndClose(Array("got \(received)".utf8))
            })
        defer { upstream.stop() }
        let gateway = try GatewayHarness.simple(upstream, timeouts: #"{"idleMs":2000}"#)
        let client = try openTunnel(gateway)
        let upload = [UInt8](repeating: 0x61, count: 8 << 20)
        try client.send(upload, timeout: .seconds(20))
        client.shutdownWrite()
        let answer = "got \(upload.count)"
        #expect(try client.readBytes(count: answer.utf8.count, timeout: .seconds(20)) == Array(answer.utf8))
        #expect(client.isClosedByPeer())
    }

    @Test func theUpstreamsLastBytesReachTheClientBeforeTheClose() throws {
        let upstream = try FakeUpstream(
            handler: Self.switching { writer in try writer.writeAndClose(Array("bye".utf8)) })
        defer { upstream.stop() }
        let gateway = try GatewayHarness.simple(upstream)
        let client = try openTunnel(gateway)
        #expect(try client.readBytes(count: 3) == Array("bye".utf8))
        #expect(client.isClosedByPeer())
    }

    @Test func aQuietTunnelClosesAfterIdleMs() throws {
        let upstream = try FakeUpstream(
            handler: Self.switching { writer in try writer.echoRaw(idle: .seconds(10)) })
        defer { upstream.stop() }
        let gateway = try GatewayHarness.simple(upstream, timeouts: #"{"idleMs":300}"#)
        let client = try openTunnel(gateway)
        #expect(client.isClosedByPeer(within: .seconds(5)))
        try upstream.waitForOpenConnections(atMost: 0)
    }

    @Test func otherUpgradesGoOutAsPlainRequests() throws {
        let upstream = try FakeUpstream(handler: .echo)
        defer { upstream.stop() }
        let gateway = try GatewayHarness.simple(upstream)
        let client = try TestClient(port: gateway.port)
        let response = try client.request(
            method: "GET", path: "/",
            headers: [
                ("Connection", "Upgrade, HTTP2-Settings"), ("Upgrade", "h2c"), ("HTTP2-Settings", "AAMAAABk"),
            ])
        #expect(response.status == 200)
        let request = try #require(upstream.receivedRequests.first)
        #expect(request.header("Upgrade") == nil)
        #expect(request.header("HTTP2-Settings") == nil)
        #expect(request.header("Connection") == nil)
        #expect(
            try client.request(method: "GET", path: "/again").status == 200, "the connection stays usable")
    }

    @Test func anUpgradeTheUpstreamRefusesIsAPlainResponse() throws {
        let upstream = try FakeUpstream(handler: .status(426, body: "use another protocol"))
        defer { upstream.stop() }
        let gateway = try GatewayHarness.simple(upstream)
        let client = try TestClient(port: gateway.port)
        let refused = try client.request(method: "GET", path: "/chat", headers: Self.upgradeHeaders)
        #expect(refused.status == 426)
        #expect(refused.bodyString == "use another protocol")
        #expect(refused.header("Upgrade") == nil)
        #expect(try client.request(method: "GET", path: "/next").status == 426, "the connection stays usable")
    }

    /// An upstream that switches protocols for a request that did not ask is broken.
    @Test func a101WithoutAnUpgradeRequestIs502() throws {
        let upstream = try FakeUpstream(
            handler: FakeHandler { _, writer in
                try writer.writeInterim(
                    status: 101, headers: [("Upgrade", "websocket"), ("Connection", "Upgrade")])
                try writer.echoRaw(idle: .seconds(2))
            })
        defer { upstream.stop() }
        let gateway = try GatewayHarness.simple(upstream, route: #""retries":{"maxRetries":0}"#)
        let response = try TestClient.get(port: gateway.port, path: "/")
        #expect(response.status == 502)
        #expect(response.header("X-Gateway-Error") == "upstream_bad_response")
    }
}
