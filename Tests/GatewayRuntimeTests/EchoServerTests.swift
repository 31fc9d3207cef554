import Gateway
import PorticoTesting
import Testing

@testable import GatewayRuntime

/// `portico echo` (README.md, "Command line") as a server in this process.
@Suite(.serialized, .timeLimit(.minutes(1))) struct EchoServerTests {
    private func echo() throws -> EchoServer {
        guard case .success(let address) = ConfigAddress.parse("127.0.0.1:0", resolve: SystemResolver.resolve)
        else { throw HarnessError(message: "cannot parse the address") }
        return try EchoServer(address: address, name: "echo")
    }

    /// A request asking to close gets its answer, then the connection closes; the server
    /// keeps serving (it once read the closed descriptor and crashed).
    @Test func connectionCloseRequestIsAnsweredAndTheServerKeepsServing() throws {
        let server = try echo()
        defer { server.stop() }
        let client = try TestClient(port: server.address.port)
        let response = try client.request(path: "/bye", headers: [("Connection", "close")])
        #expect(response.status == 200)
        #expect(response.header("Connection") == "close")
        #expect(client.isClosedByPeer())
        #expect(try TestClient.get(port: server.address.port, path: "/again").status == 200)
    }

    /// An empty body (`Content-Length: 0`, e.g. a PATCH) is complete with the head: the
    /// answer comes at once, not when the next request arrives.
    @Test(arguments: ["PATCH", "POST", "PUT"])
    func emptyBodyIsAnsweredAtOnce(method: String) throws {
        let server = try echo()
        defer { server.stop() }
        let client = try TestClient(port: server.address.port, timeout: .seconds(2))
        let response = try client.request(method: method, path: "/empty", headers: [("Content-Length", "0")])
        #expect(response.status == 200)
        #expect(response.bodyString.contains(#""bodyBytes":0"#))
        #expect(try client.request(path: "/next").status == 200)
    }
}
