import Glibc
import HTTP1

/// What a `FakeUpstream` handler uses to answer one request, politely or not.
///
/// Valid only during the handler call, on the connection's thread. Every write waits at most
/// the upstream's `writeTimeout` for buffer space, and every wait (`pause`, `wait(for:)`, writes)
/// throws `TestingError.stopped` when the upstream stops, so `stop()` never hangs on a handler.
/// Nothing is added implicitly except `Content-Length` / `Transfer-Encoding` where documented.
package final class FakeConnectionWriter {
    /// The method of the request being answered; a HEAD response gets no body bytes.
    package let requestMethod: String
    /// Whether the connection has been closed or reset by the handler.
    package private(set) var isClosed = false
    /// Whether the connection will be closed once the handler returns.
    package private(set) var closesAfterResponse = false

    private(set) var fd: Int32
    private let wakeFd: Int32
    private let writeTimeout: Duration

    init(fd: Int32, wakeFd: Int32, requestMethod: String, writeTimeout: Duration) {
        self.fd = fd
        self.wakeFd = wakeFd
        self.requestMethod = requestMethod
        self.writeTimeout = writeTimeout
    }

    /// Writes raw bytes exactly as given (for malformed or hand-crafted responses).
    package func write(_ bytes: [UInt8]) throws {
        guard !isClosed else { throw TestingError.connectionClosed("handler wrote after close()/reset()") }
        try bytes.withUnsafeBytes {
            try LoopbackSocket.sendAll(
                fd, $0, limit: WaitLimit(inactivity: writeTimeout), wakeFd: wakeFd, what: "fake response")
        }
    }

    /// Writes the UTF-8 bytes of `text` exactly as given.
    package func write(_ text: String) throws { try write(Array(text.utf8)) }

    /// Writes an interim response such as `100 Continue` or `103 Early Hints`.
    package func writeInterim(status: Int = 100, reason: String? = nil, headers: [(String, String)] = [])
        throws
    {
        try writeHead(status: status, reason: reason, headers: headers)
    }

    /// Writes a status line, `headers` as given, and the empty line.
    ///
    /// A final response carrying `Connection: close` also makes the connection close once the
    /// handler returns, as a real server would.
    package func writeHead(status: Int, reason: String? = nil, headers: [(String, String)] = []) throws {
        noteConnectionClose(status: status, headers: headers)
        var head = "HTTP/1.1 \(status) \(reason ?? FakeConnectionWriter.reasonPhrase(status))\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        head += "\r\n"
        try write(head)
    }

    /// Writes a complete response framed by `Content-Length`.
    ///
    /// `Content-Length` is added unless `headers` carries Content-Length or Transfer-Encoding,
    /// or the status forbids a body (1xx, 204, 304). For a HEAD request the body is not sent.
    /// `Connection: close` in `headers` closes the connection after the handler returns.
    package func writeResponse(
        status: Int = 200, reason: String? = nil, headers: [(String, String)] = [], body: [UInt8] = []
    ) throws {
        noteConnectionClose(status: status, headers: headers)
        let bodyless = (100..<200).contains(status) || status == 204 || status == 304
        var fields = headers
        if !bodyless, HeaderList.first("content-length", in: headers) == nil,
            HeaderList.first("transfer-encoding", in: headers) == nil
        {
            fields.append(("Content-Length", "\(body.count)"))
        }
        var head = "HTTP/1.1 \(status) \(reason ?? FakeConnectionWriter.reasonPhrase(status))\r\n"
        for (name, value) in fields { head += "\(name): \(value)\r\n" }
        head += "\r\n"
        let sendsBody = !bodyless && requestMethod != "HEAD"
        try write(Array(head.utf8) + (sendsBody ? body : []))
    }

    /// Writes a complete response whose body is the UTF-8 bytes of `body`.
    package func writeResponse(
        status: Int = 200, reason: String? = nil, headers: [(String, String)] = [], body: String
    ) throws {
        try writeResponse(status: status, reason: reason, headers: headers, body: Array(body.utf8))
    }

    /// Writes a complete chunked response: head, one chunk per element, last chunk, trailers.
    ///
    /// `Transfer-Encoding: chunked` is added unless `headers` already has Transfer-Encoding.
    /// Empty elements are skipped, since an empty chunk would end the body.
    package func writeChunked(
        status: Int = 200, reason: String? = nil, headers: [(String, String)] = [], chunks: [[UInt8]],
        trailers: [(String, String)] = []
    ) throws {
        try writeChunkedHead(status: status, reason: reason, headers: headers)
        for chunk in chunks { try writeChunk(chunk) }
        try writeLastChunk(trailers: trailers)
    }

    /// Writes a complete chunked response with UTF-8 text chunks.
    package func writeChunked(
        status: Int = 200, reason: String? = nil, headers: [(String, String)] = [], chunks: [String],
        trailers: [(String, String)] = []
    ) throws {
        try writeChunked(
            status: status, reason: reason, headers: headers, chunks: chunks.map { Array($0.utf8) },
            trailers: trailers)
    }

    /// Writes a head announcing a chunked body; follow with `writeChunk` and `writeLastChunk`.
    package func writeChunkedHead(status: Int = 200, reason: String? = nil, headers: [(String, String)] = [])
        throws
    {
        var fields = headers
        if HeaderList.first("transfer-encoding", in: headers) == nil {
            fields.append(("Transfer-Encoding", "chunked"))
        }
        try writeHead(status: status, reason: reason, headers: fields)
    }

    /// Writes one chunk (size line, data, CRLF); an empty `bytes` writes nothing.
    package func writeChunk(_ bytes: [UInt8]) throws {
        guard !bytes.isEmpty else { return }
        try write(Array((String(bytes.count, radix: 16) + "\r\n").utf8) + bytes + [0x0D, 0x0A])
    }

    /// Writes one chunk holding the UTF-8 bytes of `text`.
    package func writeChunk(_ text: String) throws { try writeChunk(Array(text.utf8)) }

    /// Writes the last chunk, the trailer fields and the final empty line.
    package func writeLastChunk(trailers: [(String, String)] = []) throws {
        var tail = "0\r\n"
        for (name, value) in trailers { tail += "\(name): \(value)\r\n" }
        tail += "\r\n"
        try write(tail)
    }

    /// Sleeps for `duration`; throws `TestingError.stopped` at once if the upstream stops.
    package func pause(_ duration: Duration) throws {
        try pauseInterruptibly(until: .after(duration), wakeFd: wakeFd)
    }

    /// Blocks until `latch` opens; throws `timedOut` after `timeout` or `stopped` on stop.
    package func wait(for latch: TestLatch, timeout: Duration = .seconds(10)) throws {
        switch try waitForEvents(latch.readFd, POLLIN, wakeFd: wakeFd, deadline: .after(timeout)) {
        case .ready: return
        case .woken: throw TestingError.stopped
        case .timedOut: throw TestingError.timedOut("fake upstream handler waiting for a latch")
        }
    }

    /// Waits until the client (the gateway) closes or resets the connection; true when it did
    /// within `timeout`, false on timeout or when it sent more bytes instead.
    package func waitForPeerClose(timeout: Duration = .seconds(5)) throws -> Bool {
        let deadline = Deadline.after(timeout)
        while true {
            switch try waitForEvents(fd, POLLIN, wakeFd: wakeFd, deadline: deadline) {
            case .woken: throw TestingError.stopped
            case .timedOut: return false
            case .ready:
                var byte: UInt8 = 0
                let count = recv(fd, &byte, 1, Int32(MSG_PEEK))
                if count == 0 { return true }
                if count < 0 { return errno != EAGAIN && errno != EINTR }
                return false
            }
        }
    }

    /// After a 101: sends back every byte that arrives, as it arrives (a WebSocket-style
    /// echo through a tunnel), until the peer closes the connection or `idle` passes without
    /// a byte, or `until` bytes were echoed; returns how many bytes were echoed. The
    /// connection is closed once the handler returns.
    @discardableResult
    package func echoRaw(idle: Duration = .seconds(5), until limit: Int = .max) throws -> Int {
        closesAfterResponse = true
        var echoed = 0
        var buffer = [UInt8](repeating: 0, count: 16384)
        while echoed < limit {
            switch try waitForEvents(fd, POLLIN, wakeFd: wakeFd, deadline: .after(idle)) {
            case .woken: throw TestingError.stopped
            case .timedOut: return echoed
            case .ready:
                let count = buffer.withUnsafeMutableBytes {
                    recv(fd, $0.baseAddress, min($0.count, limit - echoed), 0)
                }
                if count == 0 { return echoed }
                if count < 0 {
                    if errno == EAGAIN || errno == EINTR { continue }
                    return echoed
                }
                try write(Array(buffer[0..<count]))
                echoed += count
            }
        }
        return echoed
    }

    /// Reads and counts raw bytes until the peer ends its side (or `idle` passes without a
    /// byte); returns the count. For tunnels: what a client sent through, up to its end.
    package func countRawUntilEnd(idle: Duration = .seconds(5)) throws -> Int {
        closesAfterResponse = true
        var total = 0
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            switch try waitForEvents(fd, POLLIN, wakeFd: wakeFd, deadline: .after(idle)) {
            case .woken: throw TestingError.stopped
            case .timedOut: return total
            case .ready:
                let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                if count == 0 { return total }
                if count < 0 {
                    if errno == EAGAIN || errno == EINTR { continue }
                    return total
                }
                total += count
            }
        }
    }

    /// Closes the connection once the handler returns instead of reading another request.
    package func closeAfterResponse() { closesAfterResponse = true }

    /// Ends the connection in an orderly way now: sends FIN (the read side closes when the
    /// handler returns). Use after a close-delimited body.
    package func close() {
        guard !isClosed else { return }
        shutdown(fd, Int32(SHUT_WR))
        isClosed = true
        closesAfterResponse = true
    }

    /// Writes `bytes` and the end of the stream together: corked, so the FIN rides with the
    /// last data segment and the peer sees data and close in one readiness event.
    package func writeAndClose(_ bytes: [UInt8]) throws {
        var one: Int32 = 1
        _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_CORK, &one, socklen_t(MemoryLayout<Int32>.size))
        try write(bytes)
        close()
    }

    /// Aborts the connection now with RST (`SO_LINGER` 0 and close).
    package func reset() {
        guard fd >= 0 else { return }
        LoopbackSocket.resetClose(fd)
        fd = -1
        isClosed = true
        closesAfterResponse = true
    }

    private func noteConnectionClose(status: Int, headers: [(String, String)]) {
        if status >= 200 && HeaderList.contains(token: "close", in: "connection", of: headers) {
            closesAfterResponse = true
        }
    }

    /// The standard reason phrase for `status` (the codec's table), or `Status` for codes
    /// without one.
    package static func reasonPhrase(_ status: Int) -> String {
        let phrase = HTTP1Writer.reasonPhrase(for: status)
        return phrase.utf8CodeUnitCount > 0 ? phrase.description : "Status"
    }
}
