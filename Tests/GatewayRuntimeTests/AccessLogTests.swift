import Glibc
import PorticoTesting
import Synchronization
import Testing

@testable import GatewayRuntime

@Suite(.serialized, .timeLimit(.minutes(1))) struct AccessLogTests {
    /// The lines of the log file once it holds at least `count` of them.
    private func lines(of path: String, atLeast count: Int) throws -> [TestJSON] {
        var parsed: [TestJSON] = []
        try waitUntil("\(count) access log lines in \(path)") {
            guard let text = try? readText(path) else { return false }
            parsed = text.split(separator: "\n").compactMap { try? TestJSON(parsing: Array($0.utf8)) }
            return parsed.count >= count
        }
        return parsed
    }

    private func readText(_ path: String) throws -> String {
        guard let file = fopen(path, "r") else { throw HarnessError(message: "cannot open \(path)") }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = fread(&chunk, 1, chunk.count, file)
            if count == 0 { break }
            bytes += chunk[0..<count]
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    @Test func writesOneJSONLinePerRequestWithEveryField() throws {
        let upstream = try FakeUpstream(handler: .status(201, body: "made"))
        let directory = try TempConfig("{}")
        let logPath = directory.file(named: "access.log")
        let gateway = try GatewayHarness(
            GatewayHarness.config(
                upstreams: [("users", [upstream.address])],
                routes: #"[{"name":"users-api","match":{"pathPrefix":"/users"},"upstream":"users"}]"#,
                listenerExtra: #","trustedProxies":["127.0.0.0/8"]"#, accessLog: #"{"path":"\#(logPath)"}"#))
        let client = try gateway.client()
        let response = try client.request(
            method: "POST", path: "/users/7?full=1",
            headers: [("Host", "api.test"), ("X-Forwarded-For", "203.0.113.9, 127.0.0.7")], body: "abc")
        #expect(response.status == 201)
        #expect(try client.request(path: "/nowhere").status == 404)
        let entries = try lines(of: logPath, atLeast: 2)
        let first = entries[0]
        #expect(first["requestId"]?.stringValue == response.header("X-Request-Id"))
        #expect(first["client"]?.stringValue == "203.0.113.9")
        #expect(first["method"]?.stringValue == "POST")
        #expect(first["host"]?.stringValue == "api.test")
        #expect(first["path"]?.stringValue == "/users/7?full=1")
        #expect(first["route"]?.stringValue == "users-api")
        #expect(first["upstream"]?.stringValue == "users")
        #expect(first["server"]?.stringValue == upstream.address)
        #expect(first["status"]?.intValue == 201)
        #expect(first["attempts"]?.intValue == 1)
        #expect(first["bytesIn"]?.intValue == 3)
        #expect(first["bytesOut"]?.intValue == 4)
        #expect((first["durationMs"]?.doubleValue ?? -1) >= 0)
        #expect((first["upstreamMs"]?.doubleValue ?? -1) >= 0)
        #expect(first["ts"]?.stringValue?.hasSuffix("Z") == true)
        #expect(first["error"] == .null)
        let second = entries[1]
        #expect(second["status"]?.intValue == 404)
        #expect(second["error"]?.stringValue == "no_route")
        #expect(second["route"] == .null)
    }

    /// An X-Forwarded-For that Connection names is not forwarded (RFC 9110 §7.6.1), so even
    /// from a trusted proxy it does not name the client: the peer does.
    @Test func trustedProxyForwardedForNamedByConnectionIsNotBelieved() throws {
        let upstream = try FakeUpstream(handler: .echo)
        let directory = try TempConfig("{}")
        let logPath = directory.file(named: "access.log")
        let gateway = try GatewayHarness(
            GatewayHarness.config(
                upstreams: [("app", [upstream.address])],
                routes: #"[{"name":"app","match":{"pathPrefix":"/"},"upstream":"app"}]"#,
                listenerExtra: #","trustedProxies":["127.0.0.1"]"#, accessLog: #"{"path":"\#(logPath)"}"#))
        let response = try TestClient.get(
            port: gateway.port, path: "/",
            headers: [("Connection", "X-Forwarded-For"), ("X-Forwarded-For", "203.0.113.9")])
        #expect(response.status == 200)
        let entries = try lines(of: logPath, atLeast: 1)
        #expect(entries[0]["client"]?.stringValue == "127.0.0.1")
    }

    /// Responses the gateway makes itself log what they sent and how long they took, and a
    /// request refused for its head logs what was parsed of its request line.
    @Test func gatewayMadeResponsesLogTheirSizeTimeAndRequestLine() throws {
        let nobody = "127.0.0.1:\(try ProcessRunner.freePort())"
        let directory = try TempConfig("{}")
        let logPath = directory.file(named: "access.log")
        let gateway = try GatewayHarness(
            GatewayHarness.config(
                upstreams: [("dead", [nobody])],
                routes: """
                    [{"name":"health","match":{"path":"/healthz"},"directResponse":{"status":200,"body":"healthy"}},
                     {"name":"dead","match":{"pathPrefix":"/"},"upstream":"dead"}]
                    """,
                accessLog: #"{"path":"\#(logPath)"}"#))
        let direct = try TestClient.get(port: gateway.port, path: "/healthz")
        #expect(direct.bodyString == "healthy")
        let refused = try TestClient.get(port: gateway.port, path: "/down")
        #expect(refused.status == 502)
        let noHost = try gateway.client()
        try noHost.send("GET /no-host?q=1 HTTP/1.1\r\nAccept: */*\r\n\r\n")
        let missingHost = try noHost.readResponse()
        #expect(missingHost.status == 400)

        let entries = try lines(of: logPath, atLeast: 3)
        #expect(entries[0]["bytesOut"]?.intValue == 7)
        #expect(entries[1]["bytesOut"]?.intValue == refused.body.count)
        #expect(entries[1]["error"]?.stringValue == "upstream_connect_failed")
        #expect(entries[2]["bytesOut"]?.intValue == missingHost.body.count)
        for entry in entries { #expect((entry["durationMs"]?.doubleValue ?? 0) > 0, "\(entry)") }
        #expect(entries[2]["method"]?.stringValue == "GET")
        #expect(entries[2]["path"]?.stringValue == "/no-host?q=1")
        #expect(entries[2]["status"]?.intValue == 400)
        #expect(entries[2]["error"]?.stringValue == "bad_request")
    }

    @Test func recordsClientThatLeftAs499() throws {
        let sawClose = Mutex(false)
        let upstream = try FakeUpstream { _, writer in
            let closed = try writer.waitForPeerClose(timeout: .seconds(10))
            sawClose.withLock { $0 = closed }
        }
        let directory = try TempConfig("{}")
        let logPath = directory.file(named: "access.log")
        let gateway = try GatewayHarness(
            GatewayHarness.config(
                upstreams: [("app", [upstream.address])],
                routes: #"[{"name":"app","match":{"pathPrefix":"/"},"upstream":"app"}]"#,
                accessLog: #"{"path":"\#(logPath)"}"#))
        let client = try gateway.client()
        try client.sendRequest(path: "/slow")
        _ = try upstream.waitForRequests(count: 1)
        client.close()
        let entries = try lines(of: logPath, atLeast: 1)
        #expect(entries[0]["status"]?.intValue == 499)
    }

    @Test func trustedProxyKeepsForwardedProto() throws {
        let upstream = try FakeUpstream(handler: .echo)
        let gateway = try GatewayHarness(
            GatewayHarness.config(
                upstreams: [("app", [upstream.address])],
                routes: #"[{"name":"app","match":{"pathPrefix":"/"},"upstream":"app"}]"#,
                listenerExtra: #","trustedProxies":["127.0.0.1"]"#))
        _ = try TestClient.get(
            port: gateway.port, path: "/",
            headers: [("X-Forwarded-Proto", "https"), ("X-Forwarded-Host", "a.test")])
        let received = try #require(upstream.receivedRequests.first)
        #expect(received.header("X-Forwarded-Proto") == "https")
        #expect(received.header("X-Forwarded-Host") == "a.test")
    }

    @Test func dropsAndCountsLinesWhenTheSinkBlocks() throws {
        let upstream = try FakeUpstream(handler: .status(200, body: "ok"))
        let directory = try TempConfig("{}")
        let fifo = directory.file(named: "access.fifo")
        #expect(mkfifo(fifo, 0o600) == 0)
        // Opened for reading but never read: once the pipe is full the writer thread blocks.
        let reader = open(fifo, O_RDONLY | O_NONBLOCK)
        #expect(reader >= 0)
        defer { close(reader) }
        let gateway = try GatewayHarness(
            GatewayHarness.config(
                upstreams: [("app", [upstream.address])],
                routes: #"[{"name":"app","match":{"pathPrefix":"/"},"upstream":"app"}]"#,
                accessLog: #"{"path":"\#(fifo)"}"#),
            accessLogQueueBytes: 16 * 1024)
        let client = try gateway.client()
        let log = gateway.server.shared.accessLog
        var served = 0
        while log.dropped.load(ordering: .relaxed) == 0 && served < 5000 {
            #expect(try client.request(path: "/x").status == 200)
            served += 1
        }
        #expect(log.dropped.load(ordering: .relaxed) > 0)
        // Traffic keeps flowing while lines are dropped.
        #expect(try client.request(path: "/after").status == 200)
        withExtendedLifetime(gateway) {}
    }
}
