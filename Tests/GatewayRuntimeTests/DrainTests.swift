import Glibc
import PorticoTesting
import Testing

/// Graceful shutdown (docs/operations.md, "Shutting down"), on the real binary: signals and exit codes are
/// process-wide.
@Suite(.serialized, .timeLimit(.minutes(2))) struct DrainTests {
    private struct Running {
        let process: ProcessRunner
        let port: UInt16
        let adminPort: UInt16
        let config: TempConfig
    }

    private func start(upstream: FakeUpstream, drainMs: Int, workers: Int = 1) throws -> Running {
        let adminPort = try ProcessRunner.freePort()
        let config = try TempConfig(
            """
            {"workers":\(workers),"listeners":[{"name":"http","address":"127.0.0.1:0"}],
             "admin":{"address":"127.0.0.1:\(adminPort)"},"accessLog":{"path":"off"},
             "timeouts":{"drainMs":\(drainMs)},
             "upstreams":{"app":{"servers":[{"address":"\(upstream.address)"}]}},
             "routes":[{"name":"app","match":{"pathPrefix":"/"},"upstream":"app"}]}
            """)
        let binary = try #require(ProcessRunner.builtProductPath(named: "portico"))
        let process = try ProcessRunner(executable: binary, arguments: ["--config", config.path])
        let line = try process.waitForLine(
            containing: "msg=\"listening\"", in: .stderr, timeout: .seconds(20))
        let port = try #require(UInt16(line.split(separator: "port=").last ?? ""))
        return Running(process: process, port: port, adminPort: adminPort, config: config)
    }

    @Test func inFlightRequestCompletesWhileNewConnectionsAreRefused() throws {
        let latch = try TestLatch()
        defer { latch.open() }
        // By path, not by arrival order: the two requests run on two upstream threads.
        let slow = FakeHandler.waitFor(latch, then: .status(200, body: "finished"))
        let upstream = try FakeUpstream { request, writer in
            try (request.path == "/slow" ? slow : .echo).respond(request, writer)
        }
        let gateway = try start(upstream: upstream, drainMs: 10_000)
        let inFlight = try TestClient(port: gateway.port, timeout: .seconds(20))
        try inFlight.sendRequest(path: "/slow")
        _ = try upstream.waitForRequests(count: 1)
        let idle = try TestClient(port: gateway.port)
        #expect(try idle.request(path: "/quick").status == 200)

        try gateway.process.signal(SIGTERM)
        try waitUntil("the admin endpoint reports the drain") {
            (try? TestClient.get(port: gateway.adminPort, path: "/healthz").status) == 503
        }
        #expect(try TestClient.get(port: gateway.adminPort, path: "/ready").status == 503)
        #expect(throws: (any Error).self) { try TestClient.get(port: gateway.port, path: "/new") }
        #expect(idle.isClosedByPeer(), "idle keep-alive connections close after the drain grace")

        latch.open()
        let response = try inFlight.readResponse()
        #expect(response.status == 200)
        #expect(response.bodyString == "finished")
        #expect(response.header("Connection") == "close")
        #expect(try gateway.process.waitForExit(timeout: .seconds(20)) == 0)
    }

    /// A response whose exchange is over but whose last bytes still wait in the gateway for
    /// a client that does not read is written whole before the connection closes. Whether
    /// the tail is still in the gateway's buffer (rather than all in the kernel's) when the
    /// drain starts depends on the kernel's buffer sizes; either way nothing may be cut.
    @Test func aResponseStillBeingWrittenReachesASlowClientWhole() throws {
        let size = 4 << 20
        let upstream = try FakeUpstream(
            config: FakeUpstreamConfig(storesBodies: false),
            handler: .status(200, body: String(repeating: "b", count: size)))
        let gateway = try start(upstream: upstream, drainMs: 10_000)
        let client = try TestClient(port: gateway.port, timeout: .seconds(20))
        try client.sendRequest(path: "/big")
        _ = try? waitUntil("the exchange is over", timeout: .seconds(3)) {
            let stats = try? TestClient.get(port: gateway.adminPort, path: "/stats").json()
            return stats?["requests"]?["active"]?.intValue == 0 && stats?["requests"]?["total"]?.intValue == 1
        }
        try gateway.process.signal(SIGTERM)
        _ = try gateway.process.waitForLine(containing: "draining", in: .stderr, timeout: .seconds(5))
        let response = try client.readResponse()
        #expect(response.status == 200)
        #expect(response.bodyByteCount == size)
        #expect(client.isClosedByPeer())
        #expect(try gateway.process.waitForExit(timeout: .seconds(20)) == 0)
    }

    @Test func pipelinedRequestsAlreadyReceivedAreServed() throws {
        let latch = try TestLatch()
        defer { latch.open() }
        let upstream = try FakeUpstream(handler: .sequence([.waitFor(latch, then: .echo), .echo]))
        let gateway = try start(upstream: upstream, drainMs: 10_000)
        let client = try TestClient(port: gateway.port, timeout: .seconds(20))
        try client.send("GET /one HTTP/1.1\r\nHost: a\r\n\r\nGET /two HTTP/1.1\r\nHost: a\r\n\r\n")
        _ = try upstream.waitForRequests(count: 1)
        try gateway.process.signal(SIGTERM)
        try waitUntil("the drain starts") {
            (try? TestClient.get(port: gateway.adminPort, path: "/healthz").status) == 503
        }
        latch.open()
        let first = try client.readResponse()
        #expect(first.status == 200)
        #expect(first.header("Connection") == nil)
        let second = try client.readResponse()
        #expect(second.status == 200)
        #expect(second.header("Connection") == "close")
        #expect(try gateway.process.waitForExit(timeout: .seconds(20)) == 0)
    }

    /// A stop signal that lands while a request is in flight never cuts that request, with
    /// two workers and idle keep-alive connections that the drain closes (on the other worker
    /// too: each worker must count as drained once, however many of its connections close).
    /// Repeated: connections land on a worker by the kernel's choice.
    @Test func signalRacingAnInFlightRequestNeverCutsIt() throws {
        let upstream = try FakeUpstream { request, writer in
            if request.path == "/slow" { try writer.pause(.milliseconds(150)) }
            try FakeHandler.echo.respond(request, writer)
        }
        defer { upstream.stop() }
        for run in 0..<6 {
            let gateway = try start(upstream: upstream, drainMs: 8000, workers: 2)
            var idle: [TestClient] = []
            for _ in 0..<8 {
                let connection = try TestClient(port: gateway.port, timeout: .seconds(20))
                #expect(try connection.request(path: "/idle").status == 200)
                idle.append(connection)
            }
            let client = try TestClient(port: gateway.port, timeout: .seconds(20))
            #expect(try client.request(path: "/warm").status == 200)
            let before = upstream.receivedRequests.count
            try client.sendRequest(path: "/slow")
            _ = try upstream.waitForRequests(count: before + 1)
            try gateway.process.signal(SIGTERM)
            let response = try client.readResponse()
            #expect(response.status == 200, "run \(run)")
            #expect(response.header("Connection") == "close", "run \(run)")
            #expect(client.isClosedByPeer(), "run \(run)")
            #expect(try gateway.process.waitForExit(timeout: .seconds(10)) == 0, "run \(run)")
        }
    }

    /// A request whose header is still arriving when the drain begins is served.
    @Test func headerCompletedDuringTheDrainIsServed() throws {
        let latch = try TestLatch()
        defer { latch.open() }
        let upstream = try FakeUpstream { request, writer in
            if request.path == "/hold" { try writer.wait(for: latch) }
            try FakeHandler.echo.respond(request, writer)
        }
        defer { upstream.stop() }
        let gateway = try start(upstream: upstream, drainMs: 8000)
        // Keeps the drain from ending before the second client is done.
        let holder = try TestClient(port: gateway.port, timeout: .seconds(20))
        try holder.sendRequest(path: "/hold")
        _ = try upstream.waitForRequests(count: 1)
        let client = try TestClient(port: gateway.port, timeout: .seconds(20))
        try client.send("GET /late HTTP/1.1\r\nHost: a\r\n")
        try waitUntil("the gateway read the partial header") {
            (try? TestClient.get(port: gateway.adminPort, path: "/stats").bodyString.contains("\"active\":2"))
                == true
        }
        try gateway.process.signal(SIGTERM)
        try waitUntil("the drain starts") {
            (try? TestClient.get(port: gateway.adminPort, path: "/healthz").status) == 503
        }
        try client.send("X-Late: yes\r\n\r\n")
        let response = try client.readResponse()
        #expect(response.status == 200)
        #expect(response.header("Connection") == "close")
        latch.open()
        #expect(try holder.readResponse().status == 200)
        #expect(try gateway.process.waitForExit(timeout: .seconds(10)) == 0)
    }

    /// A keep-alive client may send its next request just as the drain begins: an idle
    /// connection gets a short grace (Worker.idleDrainGrace) in which a request is still
    /// served, as the connection's last, instead of being reset.
    @Test func requestOnAnIdleConnectionAsTheDrainBeginsIsServed() throws {
        let latch = try TestLatch()
        defer { latch.open() }
        let upstream = try FakeUpstream { request, writer in
            if request.path == "/hold" { try writer.wait(for: latch) }
            try FakeHandler.echo.respond(request, writer)
        }
        defer { upstream.stop() }
        let gateway = try start(upstream: upstream, drainMs: 8000)
        let holder = try TestClient(port: gateway.port, timeout: .seconds(20))
        try holder.sendRequest(path: "/hold")
        _ = try upstream.waitForRequests(count: 1)
        let idle = try TestClient(port: gateway.port, timeout: .seconds(20))
        #expect(try idle.request(path: "/first").status == 200)

        try gateway.process.signal(SIGTERM)
        try waitUntil("the drain starts") {
            (try? TestClient.get(port: gateway.adminPort, path: "/healthz").status) == 503
        }
        let response = try idle.request(path: "/second")
        #expect(response.status == 200)
        #expect(response.header("Connection") == "close")
        latch.open()
        #expect(try holder.readResponse().status == 200)
        #expect(try gateway.process.waitForExit(timeout: .seconds(10)) == 0)
    }

    /// Connections the kernel completed but the gateway had not accepted yet when the drain
    /// began (stopped with SIGSTOP, so they wait in the accept queue with their requests)
    /// are accepted and served, not reset by the listener's close.
    @Test func connectionsInTheAcceptQueueWhenTheDrainBeginsAreServed() throws {
        let upstream = try FakeUpstream(handler: .echo)
        defer { upstream.stop() }
        let gateway = try start(upstream: upstream, drainMs: 8000)
        try gateway.process.signal(SIGSTOP)
        var clients: [TestClient] = []
        for index in 0..<5 {
            let client = try TestClient(port: gateway.port, timeout: .seconds(20))
            try client.sendRequest(path: "/queued/\(index)")
            clients.append(client)
        }
        // Pending while stopped: the drain and the queued connections meet when it resumes.
        try gateway.process.signal(SIGTERM)
        try gateway.process.signal(SIGCONT)
        // Whether the loop accepts them before the drain begins or the closing listener does,
        // each is answered (with Connection: close only in the second case).
        for client in clients {
            #expect(try client.readResponse().status == 200)
        }
        #expect(try gateway.process.waitForExit(timeout: .seconds(10)) == 0)
    }

    @Test func drainLimitForcesTheExit() throws {
        let latch = try TestLatch()
        defer { latch.open() }
        let upstream = try FakeUpstream(handler: .waitFor(latch, timeout: .seconds(30)))
        let gateway = try start(upstream: upstream, drainMs: 300)
        let client = try TestClient(port: gateway.port, timeout: .seconds(20))
        try client.sendRequest(path: "/stuck")
        _ = try upstream.waitForRequests(count: 1)
        try gateway.process.signal(SIGTERM)
        #expect(try gateway.process.waitForExit(timeout: .seconds(10)) == 0)
        #expect(client.isClosedByPeer())
        #expect(gateway.process.output(.stderr).contains("drain time is up"))
    }

    @Test func secondSignalExitsAtOnce() throws {
        let latch = try TestLatch()
        defer { latch.open() }
        let upstream = try FakeUpstream(handler: .waitFor(latch, timeout: .seconds(30)))
        let gateway = try start(upstream: upstream, drainMs: 60_000)
        let client = try TestClient(port: gateway.port, timeout: .seconds(20))
        try client.sendRequest(path: "/stuck")
        _ = try upstream.waitForRequests(count: 1)
        try gateway.process.signal(SIGTERM)
        _ = try gateway.process.waitForLine(containing: "draining", in: .stderr, timeout: .seconds(10))
        try gateway.process.signal(SIGINT)
        #expect(try gateway.process.waitForExit(timeout: .seconds(10)) == 0)
    }
}
