import Glibc

/// A blocking HTTP/1.1 client over one real TCP connection to `127.0.0.1`, for integration tests.
///
/// Every operation waits at most its `timeout` (default: the client's `timeout`) and then throws
/// `TestingError.timedOut`, so a misbehaving gateway fails a test instead of hanging it. Responses
/// are parsed incrementally from the stream, which keeps pipelined and keep-alive exchanges
/// exact. Use from one thread at a time.
package final class TestClient {
    /// The port connected to on 127.0.0.1.
    package let port: UInt16
    /// The default time allowed for each operation.
    package let timeout: Duration
    /// The socket descriptor, for tricks such as `shutdown(2)`; -1 once closed.
    package private(set) var rawSocket: Int32
    private let stream: SocketStream

    /// Connects to `127.0.0.1:port`; throws if the connection is refused or takes over `timeout`.
    /// `sourceHost` binds the client's end to another loopback address first (e.g.
    /// `0x7f00_0002` for 127.0.0.2), so the gateway sees a different client address.
    package init(port: UInt16, timeout: Duration = .seconds(5), sourceHost: UInt32? = nil) throws {
        self.port = port
        self.timeout = timeout
        rawSocket = try LoopbackSocket.connect(port: port, deadline: .after(timeout), sourceHost: sourceHost)
        stream = SocketStream(fd: rawSocket, peer: "127.0.0.1:\(port)")
    }

    deinit {
        if rawSocket >= 0 { Glibc.close(rawSocket) }
    }

    /// Opens a connection, sends `GET path` with `headers`, reads one response and closes.
    package static func get(
        port: UInt16, path: String, headers: [(String, String)] = [], timeout: Duration = .seconds(5)
    ) throws -> TestResponse {
        let client = try TestClient(port: port, timeout: timeout)
        defer { client.close() }
        return try client.request(method: "GET", path: path, headers: headers)
    }

    /// Sends raw bytes exactly as given.
    package func send(_ bytes: [UInt8], timeout: Duration? = nil) throws {
        let limit = WaitLimit(deadline: .after(timeout ?? self.timeout))
        try bytes.withUnsafeBytes {
            try LoopbackSocket.sendAll(openSocket(), $0, limit: limit, what: "to 127.0.0.1:\(port)")
        }
    }

    /// Sends the UTF-8 bytes of `text` exactly as given (write `\r\n` explicitly).
    package func send(_ text: String, timeout: Duration? = nil) throws {
        try send(Array(text.utf8), timeout: timeout)
    }

    /// Sends `count` copies of `byte` in 64 KiB pieces, for large uploads without a large array.
    package func send(repeating byte: UInt8, count: Int, timeout: Duration? = nil) throws {
        let limit = WaitLimit(deadline: .after(timeout ?? self.timeout))
        let block = [UInt8](repeating: byte, count: min(count, 65536))
        var remaining = count
        while remaining > 0 {
            let size = min(remaining, block.count)
            try block.withUnsafeBytes {
                try LoopbackSocket.sendAll(
                    openSocket(), UnsafeRawBufferPointer(rebasing: $0[0..<size]), limit: limit,
                    what: "body to 127.0.0.1:\(port)")
            }
            remaining -= size
        }
    }

    /// Sends a well-formed HTTP/1.1 request without waiting for the response.
    ///
    /// Adds `Host: test` unless `headers` has a Host field, and `Content-Length` when `body` is
    /// given and `headers` has neither Content-Length nor Transfer-Encoding (then `body` is sent
    /// as is, so it must already be chunked if the headers say so).
    package func sendRequest(
        method: String = "GET", path: String, headers: [(String, String)] = [], body: [UInt8]? = nil,
        timeout: Duration? = nil
    ) throws {
        var head = "\(method) \(path) HTTP/1.1\r\n"
        if HeaderList.first("host", in: headers) == nil { head += "Host: test\r\n" }
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        if let body, HeaderList.first("content-length", in: headers) == nil,
            HeaderList.first("transfer-encoding", in: headers) == nil
        {
            head += "Content-Length: \(body.count)\r\n"
        }
        head += "\r\n"
        try send(Array(head.utf8) + (body ?? []), timeout: timeout)
    }

    /// Sends a request whose body is the UTF-8 bytes of `body`, without waiting for the response.
    package func sendRequest(
        method: String = "GET", path: String, headers: [(String, String)] = [], body: String,
        timeout: Duration? = nil
    ) throws {
        try sendRequest(
            method: method, path: path, headers: headers, body: Array(body.utf8), timeout: timeout)
    }

    /// Sends a request (see `sendRequest`) and reads its final response, interim ones included.
    package func request(
        method: String = "GET", path: String, headers: [(String, String)] = [], body: [UInt8]? = nil,
        timeout: Duration? = nil
    ) throws -> TestResponse {
        try sendRequest(method: method, path: path, headers: headers, body: body, timeout: timeout)
        return try readResponse(requestMethod: method, timeout: timeout)
    }

    /// Sends a request with a UTF-8 `body` and reads its final response.
    package func request(
        method: String = "GET", path: String, headers: [(String, String)] = [], body: String,
        timeout: Duration? = nil
    ) throws -> TestResponse {
        try request(method: method, path: path, headers: headers, body: Array(body.utf8), timeout: timeout)
    }

    /// Reads the next final response; 1xx interim responses before it end up in its `interim`.
    ///
    /// `requestMethod` matters for framing: a response to HEAD has no body (RFC 9112 section
    /// 6.3). With `storesBody` false the body is only counted (`bodyByteCount`).
    package func readResponse(
        requestMethod: String = "GET", timeout: Duration? = nil, storesBody: Bool = true
    ) throws -> TestResponse {
        let deadline = Deadline.after(timeout ?? self.timeout)
        let head = try readFinalHead(requestMethod: requestMethod, deadline: deadline)
        return try readBody(of: head, deadline: deadline, storesBody: storesBody)
    }

    /// Reads the next response, interim or final: a 1xx (other than 101) comes back head only.
    package func readInterimOrFinal(requestMethod: String = "GET", timeout: Duration? = nil) throws
        -> TestResponse
    {
        let deadline = Deadline.after(timeout ?? self.timeout)
        let head = try readOneHead(requestMethod: requestMethod, deadline: deadline)
        return try readBody(of: head, deadline: deadline, storesBody: true)
    }

    /// Reads the head of the next final response, leaving its body unread.
    ///
    /// Interim responses are collected in `interim`. Finish with `readBody(of:)`; this lets a
    /// test observe that a streamed head arrives before the body is complete.
    package func readHead(requestMethod: String = "GET", timeout: Duration? = nil) throws -> TestResponse {
        try readFinalHead(requestMethod: requestMethod, deadline: .after(timeout ?? self.timeout))
    }

    /// Reads the body belonging to `head` (from `readHead`) and returns the completed response.
    package func readBody(
        of head: TestResponse, timeout: Duration? = nil, storesBody: Bool = true
    ) throws -> TestResponse {
        try readBody(of: head, deadline: .after(timeout ?? self.timeout), storesBody: storesBody)
    }

    /// Reads exactly `count` raw bytes from the connection.
    package func readBytes(count: Int, timeout: Duration? = nil) throws -> [UInt8] {
        stream.activity = "\(count) raw bytes"
        stream.limit = WaitLimit(deadline: .after(timeout ?? self.timeout))
        _ = try openSocket()
        return try stream.readBytes(count)
    }

    /// Everything the peer sent until it closed, and whether it closed with a reset.
    package struct PeerClose: Sendable {
        /// The bytes received (including any already buffered) before the close.
        package var bytes: [UInt8]
        /// True if the connection ended with RST (ECONNRESET) rather than FIN.
        package var wasReset: Bool
        /// The bytes decoded as UTF-8.
        package var text: String { String(decoding: bytes, as: UTF8.self) }
    }

    /// Reads until the peer closes; throws `timedOut` if it is still open after `timeout`.
    package func readUntilClosed(timeout: Duration? = nil) throws -> PeerClose {
        stream.activity = "the connection to close"
        stream.limit = WaitLimit(deadline: .after(timeout ?? self.timeout))
        _ = try openSocket()
        var bytes: [UInt8] = []
        let wasReset = try stream.readToEnd(resetIsEnd: true) { bytes.append(contentsOf: $0) }
        return PeerClose(bytes: bytes, wasReset: wasReset)
    }

    /// Whether the peer closes (EOF or reset) within `within`; bytes received meanwhile are dropped.
    package func isClosedByPeer(within: Duration = .seconds(5)) -> Bool {
        guard rawSocket >= 0 else { return false }
        stream.activity = "the connection to close"
        stream.limit = WaitLimit(deadline: .after(within))
        do {
            _ = try stream.readToEnd(resetIsEnd: true) { _ in }
            return true
        } catch {
            return false
        }
    }

    /// Half-closes: sends FIN (`shutdown(SHUT_WR)`) while the read side stays open.
    package func shutdownWrite() {
        if rawSocket >= 0 { shutdown(rawSocket, Int32(SHUT_WR)) }
    }

    /// Closes with `SO_LINGER` 0 so the peer sees a reset (RST) instead of an orderly close.
    package func resetClose() {
        guard rawSocket >= 0 else { return }
        LoopbackSocket.resetClose(rawSocket)
        rawSocket = -1
    }

    /// Closes the connection normally (FIN); further operations throw.
    package func close() {
        guard rawSocket >= 0 else { return }
        Glibc.close(rawSocket)
        rawSocket = -1
    }

    private func openSocket() throws -> Int32 {
        guard rawSocket >= 0 else { throw TestingError.connectionClosed("the TestClient was closed locally") }
        return rawSocket
    }

    private func readFinalHead(requestMethod: String, deadline: Deadline) throws -> TestResponse {
        var interim: [TestResponse] = []
        while true {
            var head = try readOneHead(requestMethod: requestMethod, deadline: deadline)
            if isInterim(head.status) {
                interim.append(head)
                continue
            }
            head.interim = interim
            return head
        }
    }

    private func isInterim(_ status: Int) -> Bool {
        // 101 Switching Protocols ends the HTTP/1.1 exchange, so it counts as final.
        (100..<200).contains(status) && status != 101
    }

    private func readOneHead(requestMethod: String, deadline: Deadline) throws -> TestResponse {
        _ = try openSocket()
        stream.activity = "response head"
        stream.limit = WaitLimit(deadline: deadline)
        guard let head = try stream.readHead(maxBytes: 65536, skipsLeadingEmptyLines: false) else {
            throw TestingError.connectionClosed("before a response head from 127.0.0.1:\(port)")
        }
        var response = try parseStatusLine(head.startLine)
        response.headers = head.fields
        response.rawHead = head.raw
        response.framing = try framing(of: response, requestMethod: requestMethod)
        return response
    }

    private func parseStatusLine(_ line: String) throws -> TestResponse {
        let parts = line.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/"), parts[1].utf8.count == 3,
            let status = Int(parts[1]), status >= 100
        else {
            throw TestingError.malformed("status line \"\(line)\" from 127.0.0.1:\(port)")
        }
        return TestResponse(
            version: String(parts[0]), status: status, reason: parts.count > 2 ? String(parts[2]) : "")
    }

    // RFC 9112 section 6.3, in order.
    private func framing(of response: TestResponse, requestMethod: String) throws -> BodyFraming {
        let status = response.status
        if requestMethod == "HEAD" || (100..<200).contains(status) || status == 204 || status == 304 {
            return .none
        }
        if let chunked = finalCodingIsChunked(response.headers) {
            return chunked ? .chunked : .untilClose
        }
        if let length = try contentLength(of: response.headers, what: "response from 127.0.0.1:\(port)") {
            return .length(length)
        }
        return .untilClose
    }

    private func readBody(of head: TestResponse, deadline: Deadline, storesBody: Bool) throws -> TestResponse
    {
        var response = head
        stream.activity = "response body (status \(head.status))"
        stream.limit = WaitLimit(deadline: deadline)
        var body: [UInt8] = []
        var count = 0
        let sink: (ArraySlice<UInt8>) -> Void = { piece in
            count += piece.count
            if storesBody { body.append(contentsOf: piece) }
        }
        switch head.framing {
        case .none:
            break
        case .length(let length):
            _ = try openSocket()
            if storesBody { body.reserveCapacity(length) }
            try stream.readExactly(length, sink: sink)
        case .chunked:
            _ = try openSocket()
            response.trailers = try stream.readChunkedBody(sink: sink)
            response.wasChunked = true
        case .untilClose:
            _ = try openSocket()
            _ = try stream.readToEnd(resetIsEnd: false, sink: sink)
            response.wasCloseDelimited = true
        }
        response.body = body
        response.bodyByteCount = count
        response.framing = .none
        return response
    }
}
