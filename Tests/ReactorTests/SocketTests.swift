import Glibc
import Testing

@testable import Reactor

@Suite(.timeLimit(.minutes(1))) struct SocketTests {
    private let loopback = SocketAddress(ipv4: 0x7f00_0001, port: 0)

    private func port(_ fd: Int32) throws -> UInt16 { try Socket.localAddress(fd).port }

    @Test func workersShareAnAddressThatNoOtherSocketListensOn() throws {
        let first = try Socket.listen(on: loopback)
        defer { closeDescriptor(first) }
        let address = SocketAddress(ipv4: 0x7f00_0001, port: try port(first))
        // SO_REUSEPORT lets the second socket bind; the check refuses the address either way.
        let second = try Socket.listen(on: address)
        closeDescriptor(second)
        #expect(throws: SystemError("bind", errno: EADDRINUSE)) { try Socket.checkNoListener(on: address) }
    }

    @Test func checkRefusesAListenerWithoutAnyOption() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue | SOCK_CLOEXEC.rawValue), 0)
        defer { closeDescriptor(fd) }
        #expect(loopback.withSockAddr { bind(fd, $0, $1) } == 0)
        #expect(Glibc.listen(fd, 4) == 0)
        let address = SocketAddress(ipv4: 0x7f00_0001, port: try port(fd))
        #expect(throws: SystemError("bind", errno: EADDRINUSE)) { try Socket.checkNoListener(on: address) }
    }

    @Test func checkPassesOnceTheListenerIsClosedAndForPortZero() throws {
        let fd = try Socket.listen(on: loopback)
        let address = SocketAddress(ipv4: 0x7f00_0001, port: try port(fd))
        closeDescriptor(fd)
        try Socket.checkNoListener(on: address)
        try Socket.checkNoListener(on: loopback)
        // The check held nothing: the address can be listened on.
        closeDescriptor(try Socket.listen(on: address))
    }

    @Test(arguments: [
        (EADDRINUSE, "address already in use"),
        (ECONNREFUSED, "connection refused"),
        // A leading acronym keeps its case.
        (EDOTDOT, "RFS specific error"),
    ])
    func lowercasedReasonStartsLowercaseExceptForAnAcronym(errno code: Int32, text: String) {
        #expect(SystemError("bind", errno: code).lowercasedReason == text)
    }
}
