import Gateway
import PorticoTesting
import Testing

@testable import GatewayRuntime

/// `portico echo` (SPEC section 12) as a server in this process.
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
}
