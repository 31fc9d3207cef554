import Glibc
import PorticoTesting
import Testing

@Suite(.serialized, .timeLimit(.minutes(1))) struct ConnectTimeoutTests {
    /// A listening socket that never accepts, with its accept queue filled, so further
    /// connects hang in SYN-SENT: the way an overloaded or firewalled server looks.
    private final class Blackhole {
        let fd: Int32
        let port: UInt16
        private var fillers: [Int32] = []

        init() throws {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            self.fd = fd
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr = in_addr(s_addr: UInt32(0x7f00_0001).bigEndian)
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            guard bound == 0, listen(fd, 0) == 0 else {
                close(fd)
                throw HarnessError(message: "cannot listen")
            }
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            _ = withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
            }
            self.port = UInt16(bigEndian: address.sin_port)
            // Fill the accept queue (backlog 0 still admits one or two) with non-blocking connects.
            for _ in 0..<4 {
                let filler = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
                _ = withUnsafePointer(to: &address) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        connect(filler, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                    }
                }
                fillers.append(filler)
            }
        }

        deinit {
            for filler in fillers { close(filler) }
            close(fd)
        }
    }

    @Test func connectTimeoutIs502ConnectFailed() throws {
        let blackhole = try Blackhole()
        let gateway = try GatewayHarness(
            GatewayHarness.config(
                upstreams: [("slow", ["127.0.0.1:\(blackhole.port)"])],
                routes: #"[{"name":"r","match":{"pathPrefix":"/"},"upstream":"slow"}]"#,
                upstreamExtra: #","connectTimeoutMs":200"#))
        let response = try TestClient.get(port: gateway.port, path: "/", timeout: .seconds(10))
        #expect(response.status == 502)
        #expect(response.jsonString("error") == "upstream_connect_failed")
        #expect(response.jsonString("message")?.contains("timed out") == true)
    }

    /// `connectTimeoutMs` 200 ends the hanging connect after about 200 ms, well before the
    /// default 1000 ms (one attempt: no retry on the same server).
    @Test func connectTimeoutEndsTheConnectAtTheSetLimit() throws {
        let blackhole = try Blackhole()
        let gateway = try GatewayHarness(
            GatewayHarness.config(
                upstreams: [("slow", ["127.0.0.1:\(blackhole.port)"])],
                routes:
                    #"[{"name":"r","match":{"pathPrefix":"/"},"upstream":"slow","retries":{"maxRetries":0}}]"#,
                upstreamExtra: #","connectTimeoutMs":200"#))
        let client = try gateway.client()
        let started = ContinuousClock.now
        let response = try client.request(path: "/", timeout: .seconds(10))
        let elapsed = ContinuousClock.now - started
        #expect(response.status == 502)
        #expect(response.jsonString("error") == "upstream_connect_failed")
        #expect(response.jsonString("message")?.contains("timed out") == true)
        #expect(elapsed >= .milliseconds(150), "\(elapsed)")
        #expect(elapsed < .milliseconds(900), "\(elapsed)")
    }
}
