import Gateway
import Glibc
import PorticoTesting
import Reactor
import Testing

@testable import GatewayRuntime

/// A listener's address belongs to one gateway: its own workers share it through
/// SO_REUSEPORT, anything else already listening there makes start-up or the reload fail
/// (docs/operations.md). Explicit ports, so one test at a time.
@Suite(.serialized, .timeLimit(.minutes(2))) struct ListenerExclusivityTests {
    private let routes = #"[{"name":"app","match":{"pathPrefix":"/"},"upstream":"app"}]"#

    private func config(_ upstream: FakeUpstream, listeners: [(String, String)], workers: Int = 1) -> String {
        let list = listeners.map { #"{"name":"\#($0.0)","address":"\#($0.1)"}"# }.joined(separator: ",")
        return GatewayHarness.config(
            upstreams: [("app", [upstream.address])], routes: routes, listeners: "[\(list)]", workers: workers
        )
    }

    private func config(_ upstream: FakeUpstream, listen: String, workers: Int = 1) -> String {
        config(upstream, listeners: [("http", listen)], workers: workers)
    }

    /// Starts another gateway from `json` and returns why it could not start (nil: it started,
    /// and is stopped again).
    private func startError(_ json: String) throws -> String? {
        let server = try GatewayServer(
            config: try GatewayHarness.load(json), configPath: nil, log: ProcessLog(fd: 2),
            accessLogQueueBytes: 1 << 16)
        defer { server.stopNow() }
        do {
            try server.start()
        } catch {
            return error.message
        }
        return nil
    }

    private func inUse(_ port: UInt16) -> String { "listen 127.0.0.1:\(port): address already in use" }

    @Test func secondGatewayOnTheSameAddressFailsToStart() throws {
        let upstream = try FakeUpstream(handler: .echo)
        let port = try ProcessRunner.freePort()
        let json = config(upstream, listen: "127.0.0.1:\(port)", workers: 2)
        // Two workers: the gateway's own sockets share the address.
        let first = try GatewayHarness(json)
        #expect(first.port == port)
        #expect(first.server.workerCount == 2)

        #expect(try startError(json) == inUse(port))
        // Each request on a new connection (a new source port), so both workers' sockets serve.
        for _ in 0..<8 {
            #expect(try TestClient.get(port: port, path: "/").status == 200)
        }
        #expect(upstream.receivedRequests.count == 8)
    }

    /// The admin endpoint too: a second gateway sharing it would answer (and reload) for the first.
    @Test func adminAddressHeldByAnotherSocketMakesStartFail() throws {
        let upstream = try FakeUpstream(handler: .echo)
        let foreign = try ForeignListener(reusingPort: true)
        let json = GatewayHarness.config(
            upstreams: [("app", [upstream.address])], routes: routes,
            admin: #"{"address":"127.0.0.1:\#(foreign.port)"}"#)
        #expect(try startError(json) == inUse(foreign.port))
    }

    @Test(arguments: [true, false])
    func foreignListenerMakesStartFail(reusingPort: Bool) throws {
        let upstream = try FakeUpstream(handler: .echo)
        let foreign = try ForeignListener(reusingPort: reusingPort)
        #expect(try startError(config(upstream, listen: "127.0.0.1:\(foreign.port)")) == inUse(foreign.port))
        // Nothing was left bound: once the other socket is gone the address is free.
        foreign.close()
        #expect(try startError(config(upstream, listen: "127.0.0.1:\(foreign.port)")) == nil)
    }

    @Test func reloadAddingAListenerOnAHeldAddressIsRefused() throws {
        let upstream = try FakeUpstream(handler: .echo)
        let foreign = try ForeignListener(reusingPort: true)
        let gateway = try GatewayHarness(config(upstream, listen: "127.0.0.1:0"))
        let withExtra = config(
            upstream, listeners: [("http", "127.0.0.1:0"), ("extra", "127.0.0.1:\(foreign.port)")])

        let refused = try gateway.reload(withExtra)
        #expect(refused.generation == nil)
        #expect(refused.errors == [inUse(foreign.port)])
        #expect(gateway.server.reloadStatus.failed == 1)
        #expect(gateway.server.port(ofListener: "extra") == nil)
        #expect(try TestClient.get(port: gateway.port, path: "/").status == 200)

        foreign.close()
        let accepted = try gateway.reload(withExtra)
        #expect(accepted.errors == [])
        #expect(accepted.generation == 2)
        #expect(gateway.server.port(ofListener: "extra") == foreign.port)
        #expect(try TestClient.get(port: foreign.port, path: "/").status == 200)
        #expect(try TestClient.get(port: gateway.port, path: "/").status == 200)
    }

    @Test func reloadMayMoveAListenerOntoAnAddressItAlreadyHolds() throws {
        let upstream = try FakeUpstream(handler: .echo)
        let gateway = try GatewayHarness(config(upstream, listen: "127.0.0.1:0", workers: 2))
        let port = gateway.port
        // "127.0.0.1:0" is replaced by its own port, written out: the new sockets bind beside
        // the old ones, which close afterwards.
        let outcome = try gateway.reload(config(upstream, listen: "127.0.0.1:\(port)", workers: 2))
        #expect(outcome.errors == [])
        #expect(outcome.generation == 2)
        #expect(gateway.server.port(ofListener: "http") == port)
        #expect(try TestClient.get(port: port, path: "/").status == 200)
    }

    @Test func restartIsNotBlockedByConnectionsInTimeWait() throws {
        let upstream = try FakeUpstream(handler: .echo)
        let port = try ProcessRunner.freePort()
        let json = config(upstream, listen: "127.0.0.1:\(port)")
        do {
            let first = try GatewayHarness(json)
            let client = try first.client()
            let response = try client.request(path: "/", headers: [("Connection", "close")])
            #expect(response.status == 200)
            // The gateway closes first, so its side of the connection ends in TIME_WAIT.
            #expect(client.isClosedByPeer())
            client.close()
            try waitUntil("a connection in TIME_WAIT on port \(port)") { timeWaitCount(localPort: port) > 0 }
        }
        let second = try GatewayHarness(json)
        #expect(second.port == port)
        #expect(try TestClient.get(port: port, path: "/").status == 200)
    }

    @Test func secondPorticoProcessExitsOne() throws {
        let portico = try #require(
            ProcessRunner.builtProductPath(named: "portico"), "portico binary not built")
        let upstream = try FakeUpstream(handler: .echo)
        let port = try ProcessRunner.freePort()
        let file = try TempConfig(config(upstream, listen: "127.0.0.1:\(port)", workers: 2))
        let first = try ProcessRunner(executable: portico, arguments: ["--config", file.path])
        _ = try first.waitForLine(containing: "listening", in: .stderr, timeout: .seconds(20))

        let second = try ProcessRunner(executable: portico, arguments: ["--config", file.path])
        #expect(try second.waitForExit(timeout: .seconds(20)) == 1)
        #expect(second.lines(in: .stderr).contains(inUse(port)), "\(second.output(.stderr))")

        #expect(try TestClient.get(port: port, path: "/").status == 200)
        try first.signal(SIGTERM)
        #expect(try first.waitForExit(timeout: .seconds(20)) == 0)
    }
}

/// A socket of another program listening on 127.0.0.1 (an ephemeral port), with
/// SO_REUSEADDR and SO_REUSEPORT like another Portico's, or with no option at all.
private final class ForeignListener {
    let port: UInt16
    private var fd: Int32

    init(reusingPort: Bool) throws {
        let loopback = SocketAddress(ipv4: 0x7f00_0001, port: 0)
        let descriptor: Int32
        if reusingPort {
            descriptor = try Socket.listen(on: loopback)
        } else {
            descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue | SOCK_CLOEXEC.rawValue), 0)
            guard descriptor >= 0 else { throw SystemError("socket", errno: errno) }
            guard loopback.withSockAddr({ bind(descriptor, $0, $1) }) == 0, Glibc.listen(descriptor, 16) == 0
            else {
                let error = SystemError("bind", errno: errno)
                Glibc.close(descriptor)
                throw error
            }
        }
        fd = descriptor
        port = try Socket.localAddress(descriptor).port
    }

    func close() {
        if fd >= 0 { Glibc.close(fd) }
        fd = -1
    }

    deinit { close() }
}

/// How many IPv4 TCP sockets with local port `localPort` are in TIME_WAIT (/proc/net/tcp).
private func timeWaitCount(localPort: UInt16) -> Int {
    guard let file = fopen("/proc/net/tcp", "r") else { return 0 }
    defer { fclose(file) }
    let portHex = ":" + String(localPort, radix: 16, uppercase: true).leftPadded(to: 4)
    var count = 0
    var line = [CChar](repeating: 0, count: 512)
    while fgets(&line, Int32(line.count), file) != nil {
        let text = String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        // "sl local_address rem_address st ...": state 06 is TIME_WAIT.
        let columns = text.split(separator: " ")
        if columns.count > 3, columns[1].hasSuffix(portHex), columns[3] == "06" { count += 1 }
    }
    return count
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        String(repeating: "0", count: max(0, width - count)) + self
    }
}
