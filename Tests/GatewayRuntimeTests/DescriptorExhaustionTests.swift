import Glibc
import PorticoTesting
import Testing

/// Running out of descriptors (docs/reliability.md, "Adversarial clients"), on the real
/// binary under a low `ulimit -n`: a limit is process-wide.
@Suite(.serialized, .timeLimit(.minutes(1))) struct DescriptorExhaustionTests {
    /// CPU time (user + system, clock ticks) the process has used so far.
    private func cpuTicks(_ pid: pid_t) throws -> Int {
        let text = String(decoding: try readProcFile("/proc/\(pid)/stat"), as: UTF8.self)
        // Fields after the command name, which is in parentheses and may hold spaces.
        let fields = text[text.index(after: try #require(text.lastIndex(of: ")")))...].split(separator: " ")
        // utime and stime are fields 14 and 15 of proc(5); fields[0] here is field 3.
        return try #require(Int(fields[11])) + (try #require(Int(fields[12])))
    }

    private func readProcFile(_ path: String) throws -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw TestingError.system("open \(path)", errno) }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = read(fd, &buffer, buffer.count)
        guard count > 0 else { throw TestingError.system("read \(path)", errno) }
        return Array(buffer[0..<count])
    }

    /// With every descriptor taken, a connection waiting on the admin listener (or a public
    /// one) cannot be accepted. Listeners are level-triggered, so a loop that only retried
    /// would spin at full speed until a descriptor is freed; the gateway stops watching the
    /// socket for a moment instead, then serves the connection once there is room.
    @Test func listenersDoNotSpinWhileDescriptorsRunOut() throws {
        let upstream = try FakeUpstream(handler: .echo)
        let adminPort = try ProcessRunner.freePort()
        let config = try TempConfig(
            """
            {"workers":1,"listeners":[{"name":"http","address":"127.0.0.1:0"}],
             "admin":{"address":"127.0.0.1:\(adminPort)"},"accessLog":{"path":"off"},
             "upstreams":{"app":{"servers":[{"address":"\(upstream.address)"}]}},
             "routes":[{"name":"app","match":{"pathPrefix":"/"},"upstream":"app"}]}
            """)
        let binary = try #require(ProcessRunner.builtProductPath(named: "portico"))
        let process = try ProcessRunner(
            executable: "/bin/sh",
            arguments: ["-c", #"ulimit -n 64 && exec "$0" --config "$1""#, binary, config.path])
        let line = try process.waitForLine(
            containing: "msg=\"listening\"", in: .stderr, timeout: .seconds(20))
        let port = try #require(UInt16(line.split(separator: "port=").last ?? ""))

        // More connections than descriptors: the gateway accepts until it has none left, the
        // rest wait in the accept queue.
        var held: [TestClient] = []
        for _ in 0..<80 { held.append(try TestClient(port: port)) }
        _ = try process.waitForLine(containing: "msg=\"accept failed\"", in: .stderr, timeout: .seconds(10))
        let admin = try TestClient(port: adminPort)

        let before = try cpuTicks(process.pid)
        // A measurement over time, not a wait for a condition: a spinning loop burns about
        // one tick per 10 ms of it (100 in the second).
        try? waitUntil("one second passes", timeout: .seconds(1), interval: .milliseconds(100)) { false }
        let ticks = try cpuTicks(process.pid) - before
        #expect(ticks < 30, "the gateway used \(ticks) ticks of CPU in a second while out of descriptors")

        // Room again: the waiting connections are served.
        for client in held { client.close() }
        held.removeAll()
        #expect(try admin.request(path: "/healthz").status == 200)
        #expect(try TestClient.get(port: port, path: "/after").status == 200)
        try process.signal(SIGTERM)
        #expect(try process.waitForExit(timeout: .seconds(20)) == 0)
    }
}
