import Glibc
import PorticoTesting
import Testing

/// A body whose last bytes reach the gateway in one read that nearly fills its input buffer
/// (a loop that woke late under CPU load). The relay keeps room for framing in its
/// destination, so such a read leaves a tail of up to 31 bytes; after the flush drained the
/// destination no readiness event comes for it, and the relay must run again by itself.
///
/// The gateway runs as its own process so that SIGSTOP can freeze its loop while the bytes
/// land in its socket; 65,440 bytes (a read that fits) is the control, 65,520 the case.
@Suite(.serialized, .timeLimit(.minutes(2))) struct RelayTailTests {
    private struct Gateway {
        let process: ProcessRunner
        let port: UInt16
        let adminPort: UInt16

        init(upstream: FakeUpstream, limits: String = "{}", timeouts: String = "{}") throws {
            let binary = try #require(ProcessRunner.builtProductPath(named: "portico"), "portico not built")
            let adminPort = try ProcessRunner.freePort()
            let config = try TempConfig(
                """
                {"workers":1,"listeners":[{"name":"http","address":"127.0.0.1:0"}],
                 "admin":{"address":"127.0.0.1:\(adminPort)"},"accessLog":{"path":"off"},
                 "limits":\(limits),"timeouts":\(timeouts),
                 "upstreams":{"app":{"servers":[{"address":"\(upstream.address)"}]}},
                 "routes":[{"name":"app","match":{"pathPrefix":"/"},"upstream":"app","timeoutMs":0}]}
                """)
            process = try ProcessRunner(executable: binary, arguments: ["--config", config.path])
            let line = try process.waitForLine(containing: "listening", in: .stderr, timeout: .seconds(20))
            port = try #require(UInt16(line.split(separator: "port=").last ?? ""))
            self.adminPort = adminPort
        }

        func activeRequests(_ upstream: FakeUpstream) -> Int? {
            let stats = try? TestClient(port: adminPort).request(path: "/stats").json()
            return stats?["upstreams"]?["app"]?["servers"]?[upstream.address]?["activeRequests"]?.intValue
        }

        func stop() {
            try? process.signal(SIGTERM)
            _ = try? process.waitForExit(timeout: .seconds(20))
        }
    }

    /// Grows both connections' TCP windows (so 64 KiB moves in one go) and leaves the
    /// upstream connection pooled.
    private static let warmBytes = 8 << 20

    @Test(arguments: [65_440, 65_520])
    func aRequestBodyTailInOneReadReachesTheUpstream(tail: Int) throws {
        let upstream = try FakeUpstream(
            config: FakeUpstreamConfig(storesBodies: false, readTimeout: .seconds(5)), handler: .echo)
        defer { upstream.stop() }
        let gateway = try Gateway(upstream: upstream, limits: #"{"maxRequestBodyBytes":0}"#)
        defer { gateway.stop() }
        let client = try TestClient(port: gateway.port, timeout: .seconds(30))
        try client.send("POST /warm HTTP/1.1\r\nHost: test\r\nContent-Length: \(Self.warmBytes)\r\n\r\n")
        try client.send(repeating: UInt8(ascii: "w"), count: Self.warmBytes)
        #expect(try client.readResponse().status == 200)

        try client.send("POST /up HTTP/1.1\r\nHost: test\r\nContent-Length: \(tail)\r\n\r\n")
        try waitUntil("the exchange waits for the body") { gateway.activeRequests(upstream) == 1 }
        try gateway.process.signal(SIGSTOP)
        // Loopback queues the bytes in the gateway's socket before send returns.
        try client.send(repeating: UInt8(ascii: "z"), count: tail)
        try gateway.process.signal(SIGCONT)
        let response = try client.readResponse()
        #expect(response.status == 200, "tail \(tail): \(response.status) \(response.bodyString)")
        #expect(try response.json()["bodyBytes"]?.intValue == tail)
    }

    @Test(arguments: [65_440, 65_520])
    func aResponseBodyTailInOneReadReachesTheClient(size: Int) throws {
        let bodyMayFollow = try TestLatch()
        let bodyWritten = try TestLatch()
        let upstream = try FakeUpstream(
            handler: FakeHandler { request, writer in
                if request.target == "/warm" {
                    try writer.writeResponse(
                        status: 200, headers: [],
                        body: [UInt8](repeating: UInt8(ascii: "w"), count: Self.warmBytes))
                    return
                }
                try writer.writeHead(status: 200, headers: [("Content-Length", "\(size)")])
                try writer.wait(for: bodyMayFollow)
                try writer.write([UInt8](repeating: UInt8(ascii: "z"), count: size))
                bodyWritten.open()
            })
        defer { upstream.stop() }
        let gateway = try Gateway(upstream: upstream, timeouts: #"{"idleMs":3000}"#)
        defer { gateway.stop() }
        let client = try TestClient(port: gateway.port, timeout: .seconds(30))
        #expect(try client.request(path: "/warm").bodyByteCount == Self.warmBytes)

        try client.sendRequest(path: "/tail")
        #expect(try client.readHead().status == 200)
        try gateway.process.signal(SIGSTOP)
        bodyMayFollow.open()
        try bodyWritten.wait()
        try gateway.process.signal(SIGCONT)
        let body = try client.readBytes(count: size, timeout: .seconds(10))
        #expect(body.count == size)
    }
}
