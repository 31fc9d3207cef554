import Glibc
import PorticoTesting
import Testing

/// The `portico` binary as a user runs it: exit codes, signals, memory (process-wide, so
/// these run it as a subprocess).
@Suite(.serialized, .timeLimit(.minutes(2))) struct CommandLineTests {
    private func portico() throws -> String {
        try #require(ProcessRunner.builtProductPath(named: "portico"), "portico binary not built")
    }

    private func run(_ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = try ProcessRunner(executable: try portico(), arguments: arguments)
        let status = try process.waitForExit(timeout: .seconds(20))
        return (status, process.output(.stdout), process.output(.stderr))
    }

    private func gatewayConfig(upstream: String, extra: String = "", listen: String = "127.0.0.1:0") -> String
    {
        """
        {"workers":1,"listeners":[{"name":"http","address":"\(listen)"}],\(extra)
         "upstreams":{"app":{"servers":[{"address":"\(upstream)"}]}},
         "routes":[{"name":"app","match":{"pathPrefix":"/"},"upstream":"app"}]}
        """
    }

    @Test func printsVersionAndHelp() throws {
        let version = try run(["--version"])
        #expect(version.status == 0)
        #expect(version.stdout.hasPrefix("portico 0.1.0"))
        let help = try run(["--help"])
        #expect(help.status == 0)
        #expect(help.stdout.contains("--check"))
    }

    @Test func badUsageExitsTwo() throws {
        let result = try run(["--no-such-flag"])
        #expect(result.status == 2)
        #expect(result.stderr.contains("usage"))
    }

    @Test func checkAcceptsValidConfiguration() throws {
        let config = try TempConfig(
            gatewayConfig(
                upstream: "127.0.0.1:9001", extra: #""admin":{"address":"127.0.0.1:9901","token":"s3cret"},"#)
        )
        let result = try run(["--check", "--config", config.path])
        #expect(result.status == 0)
        #expect(result.stdout.hasPrefix("configuration OK"))
        #expect(!result.stdout.contains("s3cret"))
    }

    @Test func checkReportsEveryProblemWithItsPath() throws {
        let config = try TempConfig(
            """
            {"listeners":[{"address":"127.0.0.1:8080"}],"upstreams":{"users":{"servers":[{"address":"127.0.0.1:1","weight":0}]}},
             "routes":[{"name":"a","upstream":"userz"}]}
            """)
        let result = try run(["--check", "--config", config.path])
        #expect(result.status == 1)
        #expect(result.stderr.contains(#"routes[0].upstream: unknown upstream "userz""#))
        #expect(result.stderr.contains("upstreams.users.servers[0].weight:"))
    }

    @Test func missingFileExitsOne() throws {
        let result = try run(["--config", "/nonexistent/gateway.json"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("/nonexistent/gateway.json"))
    }

    @Test func unbindableListenerExitsOne() throws {
        let occupant = try FakeUpstream(handler: .echo)
        let port = occupant.port
        let config = try TempConfig(
            gatewayConfig(upstream: "127.0.0.1:9001", listen: "127.0.0.1:\(port)"))
        let result = try run(["--config", config.path])
        #expect(result.status == 1)
        #expect(result.stderr.contains("listen 127.0.0.1:\(port):"))
    }

    @Test func sigtermStopsCleanly() throws {
        let upstream = try FakeUpstream(handler: .echo)
        let config = try TempConfig(gatewayConfig(upstream: upstream.address))
        let process = try ProcessRunner(executable: try portico(), arguments: ["--config", config.path])
        let line = try process.waitForLine(containing: "listening", in: .stderr, timeout: .seconds(20))
        let port = try #require(UInt16(line.split(separator: "port=").last ?? ""))
        #expect(try TestClient.get(port: port, path: "/").status == 200)
        try process.signal(SIGTERM)
        #expect(try process.waitForExit(timeout: .seconds(20)) == 0)
    }

    @Test func streams100MiBBodyWithBoundedMemory() throws {
        let upstream = try FakeUpstream(config: FakeUpstreamConfig(storesBodies: false), handler: .echo)
        let config = try TempConfig(
            gatewayConfig(
                upstream: upstream.address,
                extra: #""limits":{"maxRequestBodyBytes":0},"accessLog":{"path":"stdout"},"#))
        let process = try ProcessRunner(executable: try portico(), arguments: ["--config", config.path])
        let line = try process.waitForLine(containing: "listening", in: .stderr, timeout: .seconds(20))
        let port = try #require(UInt16(line.split(separator: "port=").last ?? ""))
        let client = try TestClient(port: port, timeout: .seconds(60))
        let total = 100 << 20
        try client.send("POST /upload HTTP/1.1\r\nHost: test\r\nContent-Length: \(total)\r\n\r\n")
        try client.send(repeating: UInt8(ascii: "z"), count: total)
        let response = try client.readResponse()
        // On a failure, say how far the upload got on each side (a stall was seen, rarely, under
        // CPU load; docs/architecture.md has the request-body pump's wake-ups).
        #expect(
            response.status == 200,
            """
            \(String(decoding: response.body, as: UTF8.self)) \(process.output(.stdout))
            upstream: \(upstream.connectionErrors) \(upstream.handlerErrors)
            """)
        #expect(upstream.bodyByteCount == total)
        let rss = try #require(residentKiB(of: process.pid))
        #expect(rss < 64 * 1024, "gateway RSS \(rss) KiB after streaming 100 MiB")
    }

    /// `--check --diff` asks the running gateway (the admin address in the file) what a
    /// reload of the file would change, without reloading.
    @Test func checkDiffShowsWhatAReloadWouldChange() throws {
        let upstream = try FakeUpstream(handler: .echo)
        defer { upstream.stop() }
        let adminPort = try ProcessRunner.freePort()
        let admin = #""admin":{"address":"127.0.0.1:\#(adminPort)","token":"t0ken"},"#
        let config = try TempConfig(gatewayConfig(upstream: upstream.address, extra: admin))
        let process = try ProcessRunner(executable: try portico(), arguments: ["--config", config.path])
        defer { process.terminate() }
        _ = try process.waitForLine(containing: "listening", in: .stderr, timeout: .seconds(20))

        let same = try run(["--check", "--diff", "--config", config.path])
        #expect(same.status == 0)
        #expect(same.stdout.contains("no changes against generation 1"))

        let next = try TempConfig(
            """
            {"workers":1,"listeners":[{"name":"http","address":"127.0.0.1:0"}],\(admin)
             "upstreams":{"app":{"servers":[{"address":"\(upstream.address)"},{"address":"127.0.0.1:9"}]}},
             "routes":[{"name":"app","match":{"pathPrefix":"/"},"upstream":"app"},
                       {"name":"v2","match":{"pathPrefix":"/v2"},"upstream":"app","timeoutMs":500}]}
            """)
        let changed = try run(["--check", "--diff", "--config", next.path])
        #expect(changed.status == 0)
        #expect(changed.stdout.contains("2 changes against generation 1:"), "\(changed.stdout)")
        #expect(changed.stdout.contains("server added: app 127.0.0.1:9"))
        #expect(changed.stdout.contains("route added: v2"))

        // A gateway that cannot be asked is an error, not "no changes".
        process.terminate()
        let unreachable = try run(["--check", "--diff", "--config", next.path])
        #expect(unreachable.status == 1)
        #expect(unreachable.stderr.contains("cannot connect to the admin endpoint"))
    }

    @Test func sighupReloadsTheFileAndKeepsItWhenInvalid() throws {
        let upstream = try FakeUpstream(handler: .echo)
        let config = try TempConfig(gatewayConfig(upstream: upstream.address))
        let process = try ProcessRunner(executable: try portico(), arguments: ["--config", config.path])
        let line = try process.waitForLine(containing: "listening", in: .stderr, timeout: .seconds(20))
        let port = try #require(UInt16(line.split(separator: "port=").last ?? ""))
        try config.write(
            """
            {"workers":1,"listeners":[{"name":"http","address":"127.0.0.1:0"}],
             "upstreams":{"app":{"servers":[{"address":"\(upstream.address)"}]}},
             "routes":[{"name":"only-v2","match":{"pathPrefix":"/v2"},"upstream":"app"}]}
            """)
        try process.signal(SIGHUP)
        _ = try process.waitForLine(containing: "config reloaded", in: .stderr, timeout: .seconds(20))
        #expect(try TestClient.get(port: port, path: "/v2/x").status == 200)
        #expect(try TestClient.get(port: port, path: "/other").status == 404)
        try config.write(#"{"listeners":[]}"#)
        try process.signal(SIGHUP)
        _ = try process.waitForLine(containing: "reload failed", in: .stderr, timeout: .seconds(20))
        #expect(try TestClient.get(port: port, path: "/v2/x").status == 200)
        try process.signal(SIGTERM)
        #expect(try process.waitForExit(timeout: .seconds(20)) == 0)
    }

    private func residentKiB(of pid: pid_t) -> Int? {
        guard let file = fopen("/proc/\(pid)/status", "r") else { return nil }
        defer { fclose(file) }
        var line = [CChar](repeating: 0, count: 512)
        while fgets(&line, Int32(line.count), file) != nil {
            let text = String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            if text.hasPrefix("VmHWM:") {
                return Int(text.dropFirst(6).filter(\.isNumber))
            }
        }
        return nil
    }
}
