import PorticoTesting
import Reactor
import Synchronization
import Testing

@testable import GatewayRuntime

@Suite(.serialized, .timeLimit(.minutes(2))) struct ReloadTests {
    private func routes(_ prefixes: [String]) -> String {
        "["
            + prefixes.enumerated().map { index, prefix in
                #"{"name":"r\#(index)","match":{"pathPrefix":"\#(prefix)"},"upstream":"app"}"#
            }.joined(separator: ",") + "]"
    }

    @Test func reloadUnderLoadLosesNoRequestAndClosesNoConnection() throws {
        let upstream = try FakeUpstream(handler: .status(200, body: "ok"))
        let config = { (prefixes: [String]) in
            GatewayHarness.config(upstreams: [("app", [upstream.address])], routes: self.routes(prefixes))
        }
        let gateway = try GatewayHarness(config(["/base"]))
        let stop = Atomic<Bool>(false)
        let failures = Mutex<[String]>([])
        let completed = Atomic<Int>(0)
        let port = gateway.port
        let threads = (0..<4).map { _ in
            LoopThread.start {
                do {
                    let client = try TestClient(port: port)
                    while !stop.load(ordering: .relaxed) {
                        let response = try client.request(path: "/base/item")
                        if response.status != 200 {
                            failures.withLock { $0.append("status \(response.status)") }
                        }
                        completed.add(1, ordering: .relaxed)
                    }
                } catch {
                    failures.withLock { $0.append("\(error)") }
                }
            }
        }
        for round in 1...12 {
            if round % 3 == 0 {
                let outcome = try gateway.reload(#"{"listeners":[{"address":"bad"}]}"#)
                #expect(outcome.generation == nil)
            } else {
                let outcome = try gateway.reload(config(["/base", "/added\(round)"]))
                #expect(outcome.generation != nil)
                // The new route answers right after the reload returns.
                #expect(try TestClient.get(port: port, path: "/added\(round)/x").status == 200)
            }
            let before = completed.load(ordering: .relaxed)
            try waitUntil("requests keep flowing after reload \(round)") {
                completed.load(ordering: .relaxed) > before + 20
            }
        }
        stop.store(true, ordering: .relaxed)
        for thread in threads { thread.join() }
        #expect(failures.withLock { $0 } == [])
        #expect(completed.load(ordering: .relaxed) > 100)
    }

    @Test func keepsPooledConnectionsAndServerStateOfKeptServers() throws {
        let upstream = try FakeUpstream(handler: .echo)
        let other = try FakeUpstream(handler: .echo)
        let gateway = try GatewayHarness(
            GatewayHarness.config(upstreams: [("app", [upstream.address])], routes: routes(["/"])))
        #expect(try TestClient.get(port: gateway.port, path: "/").status == 200)
        let stateBefore = gateway.server.currentSnapshot.upstreams[0].servers[0].state
        let outcome = try gateway.reload(
            GatewayHarness.config(
                upstreams: [("app", [upstream.address, other.address])], routes: routes(["/", "/new"])))
        #expect(outcome.changes.contains("server added: app \(other.address)"))
        let servers = gateway.server.currentSnapshot.upstreams[0].servers
        #expect(servers[0].state === stateBefore)
        // Round robin sends the next request to the kept server first, over its pooled connection.
        #expect(try TestClient.get(port: gateway.port, path: "/").status == 200)
        #expect(upstream.acceptedConnections == 1)
        #expect(upstream.receivedRequests.count == 2)
    }

    @Test func opensAddedListenersAndClosesRemovedOnes() throws {
        let upstream = try FakeUpstream(handler: .echo)
        let gateway = try GatewayHarness(
            GatewayHarness.config(upstreams: [("app", [upstream.address])], routes: routes(["/"])))
        let extra = try ProcessRunner.freePort()
        let twoListeners = GatewayHarness.config(
            upstreams: [("app", [upstream.address])], routes: routes(["/"]),
            listeners:
                #"[{"name":"http","address":"127.0.0.1:0"},{"name":"extra","address":"127.0.0.1:\#(extra)"}]"#
        )
        let added = try gateway.reload(twoListeners)
        #expect(added.changes.contains("listener added: extra 127.0.0.1:\(extra)"))
        #expect(try TestClient.get(port: extra, path: "/").status == 200)
        let kept = try TestClient(port: extra)
        #expect(try kept.request(path: "/").status == 200)
        let removed = try gateway.reload(
            GatewayHarness.config(upstreams: [("app", [upstream.address])], routes: routes(["/"])))
        #expect(removed.changes.contains("listener removed: extra 127.0.0.1:\(extra)"))
        #expect(throws: (any Error).self) { try TestClient.get(port: extra, path: "/") }
        // A connection accepted on the removed listener is still served.
        #expect(try kept.request(path: "/").status == 200)
        #expect(try TestClient.get(port: gateway.port, path: "/").status == 200)
    }
}
