import Glibc
import Reactor

/// One blocking `GET` to the admin endpoint, for `portico --check --diff`: the CLI is not an
/// event loop, and one short request to loopback needs none.
enum AdminFetch {
    struct Failure: Error {
        let message: String
    }

    /// The status and body of `GET path` at `address`, with the bearer `token` when given;
    /// waits at most `timeoutMilliseconds` for each step.
    static func get(
        _ path: String, from address: SocketAddress, token: String?, timeoutMilliseconds: Int32 = 3000
    ) throws(Failure) -> (status: Int, body: [UInt8]) {
        let fd: Int32
        let start: Socket.ConnectStart
        do throws(SystemError) {
            (fd, start) = try Socket.startConnect(to: address)
        } catch {
            throw Failure(
                message: "cannot connect to the admin endpoint \(address): \(error.lowercasedReason)")
        }
        defer { closeDescriptor(fd) }
        if start == .inProgress {
            guard wait(fd, for: Int16(POLLOUT), timeoutMilliseconds), Socket.pendingError(fd) == 0 else {
                throw Failure(message: "cannot connect to the admin endpoint \(address)")
            }
        }
        var request = "GET \(path) HTTP/1.1\r\nHost: \(address)\r\nConnection: close\r\n"
        if let token { request += "Authorization: Bearer \(token)\r\n" }
        request += "\r\n"
        var pending = Array(request.utf8)[...]
        while !pending.isEmpty {
            guard wait(fd, for: Int16(POLLOUT), timeoutMilliseconds) else {
                throw Failure(message: "the admin endpoint \(address) did not take the request")
            }
            let sent = pending.withUnsafeBytes {
                Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
            }
            if sent < 0 && errno != EAGAIN && errno != EINTR {
                throw Failure(message: "the admin endpoint \(address) closed the connection")
            }
            if sent > 0 { pending = pending.dropFirst(sent) }
        }
        var response: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            guard wait(fd, for: Int16(POLLIN), timeoutMilliseconds) else {
                throw Failure(message: "the admin endpoint \(address) did not answer in time")
            }
            let count = chunk.withUnsafeMutableBytes { Glibc.recv(fd, $0.baseAddress, $0.count, 0) }
            if count == 0 { break }
            if count < 0 {
                if errno == EAGAIN || errno == EINTR { continue }
                throw Failure(message: "the admin endpoint \(address) reset the connection")
            }
            response.append(contentsOf: chunk[0..<count])
            guard response.count <= 16 << 20 else { throw Failure(message: "the admin answer is too large") }
        }
        return try parse(response, from: address)
    }

    private static func wait(_ fd: Int32, for events: Int16, _ timeout: Int32) -> Bool {
        var descriptor = pollfd(fd: fd, events: events, revents: 0)
        while true {
            let ready = poll(&descriptor, 1, timeout)
            if ready < 0 && errno == EINTR { continue }
            return ready > 0
        }
    }

    /// The status and the body after the head (the admin endpoint frames with
    /// Content-Length and closes after `Connection: close`).
    private static func parse(_ response: [UInt8], from address: SocketAddress) throws(Failure) -> (
        status: Int, body: [UInt8]
    ) {
        let separator: [UInt8] = [13, 10, 13, 10]
        guard let end = response.indices.first(where: { response[$0...].starts(with: separator) }),
            response.count >= 12, response.starts(with: Array("HTTP/1.1 ".utf8)),
            let status = Int(String(decoding: response[9..<12], as: UTF8.self))
        else {
            throw Failure(message: "the admin endpoint \(address) sent no HTTP response")
        }
        return (status, Array(response[(end + 4)...]))
    }
}
