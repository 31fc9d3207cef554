import Glibc
import Synchronization

/// A scripted HTTP/1.1 server on `127.0.0.1:0` standing in for a real upstream.
///
/// One thread accepts; each connection gets its own thread that parses requests (request line,
/// headers, Content-Length or chunked body with trailers), records them, and runs the handler,
/// looping for keep-alive. Everything observed is readable from any thread. `stop()` (also run
/// by `deinit`) closes the listener and every connection, interrupts handlers blocked in their
/// writer, and joins all threads. A handler closure that captures its own upstream keeps it
/// alive, so call `stop()` explicitly (e.g. in a `defer`).
package final class FakeUpstream: Sendable {
    /// The bound port on 127.0.0.1.
    package let port: UInt16
    /// A label for this upstream, reported in `FakeRequest.upstreamName` and by `.echo`.
    package let name: String
    private let core: FakeUpstreamCore

    /// Starts listening and serving at once with `handler`.
    package init(
        name: String = "upstream", config: FakeUpstreamConfig = FakeUpstreamConfig(), handler: FakeHandler
    ) throws {
        core = try FakeUpstreamCore(name: name, config: config, handler: handler)
        port = core.port
        self.name = name
        core.start()
    }

    /// Starts listening and serving at once with a handler closure.
    package convenience init(
        name: String = "upstream", config: FakeUpstreamConfig = FakeUpstreamConfig(),
        _ respond: @escaping @Sendable (FakeRequest, FakeConnectionWriter) throws -> Void
    ) throws {
        try self.init(name: name, config: config, handler: FakeHandler(respond))
    }

    deinit { core.stop() }

    /// `127.0.0.1:<port>`, ready for a gateway configuration.
    package var address: String { "127.0.0.1:\(port)" }

    /// Every request received so far, in the order their bodies completed.
    package var receivedRequests: [FakeRequest] { core.state.withLock { $0.requests } }

    /// How many connections have been accepted since start.
    package var acceptedConnections: Int { core.state.withLock { $0.accepted } }

    /// How many accepted connections are still open.
    package var openConnections: Int { core.state.withLock { $0.open } }

    /// The total number of request body bytes received (stored or not).
    package var bodyByteCount: Int { core.state.withLock { $0.bodyBytes } }

    /// Requests the upstream rejected as malformed (each answered 400 and closed).
    package var protocolErrors: [String] { core.state.withLock { $0.protocolErrors } }

    /// Connections that ended in the middle of a request (EOF, reset, read timeout).
    package var connectionErrors: [String] { core.state.withLock { $0.connectionErrors } }

    /// Errors thrown by the handler (e.g. writes failing because the gateway went away).
    package var handlerErrors: [String] { core.state.withLock { $0.handlerErrors } }

    /// Waits until at least `count` requests have been received and returns all received so far.
    package func waitForRequests(count: Int, timeout: Duration = .seconds(5)) throws -> [FakeRequest] {
        try core.waitFor("\(count) requests", timeout: timeout) { $0.requests.count >= count }
        return receivedRequests
    }

    /// Waits until at least `count` connections have been accepted.
    package func waitForAcceptedConnections(count: Int, timeout: Duration = .seconds(5)) throws {
        try core.waitFor("\(count) accepted connections", timeout: timeout) { $0.accepted >= count }
    }

    /// Waits until at most `count` connections are open (e.g. 0 after the gateway closed them).
    package func waitForOpenConnections(atMost count: Int, timeout: Duration = .seconds(5)) throws {
        try core.waitFor("at most \(count) open connections", timeout: timeout) { $0.open <= count }
    }

    /// Stops serving: closes the listener and all connections and joins every thread; idempotent.
    package func stop() { core.stop() }
}

/// The shared state and threads of a `FakeUpstream`, captured by its threads instead of the
/// upstream itself so that dropping the upstream still stops them.
final class FakeUpstreamCore: Sendable {
    struct State {
        var requests: [FakeRequest] = []
        var accepted = 0
        var open = 0
        var bodyBytes = 0
        var protocolErrors: [String] = []
        var connectionErrors: [String] = []
        var handlerErrors: [String] = []
        var acceptThread: TestThread?
        var connectionThreads: [TestThread] = []
        var isStopped = false
    }

    let port: UInt16
    let state = Mutex(State())
    private let name: String
    private let config: FakeUpstreamConfig
    private let handler: FakeHandler
    private let listenFd: Int32
    private let wakeRead: Int32
    private let wakeWrite: Int32
    private let notifier = ChangeNotifier()

    init(name: String, config: FakeUpstreamConfig, handler: FakeHandler) throws {
        self.name = name
        self.config = config
        self.handler = handler
        (listenFd, port) = try LoopbackSocket.listen(receiveBufferBytes: config.receiveBufferBytes)
        do {
            (wakeRead, wakeWrite) = try LoopbackSocket.makeSocketPair()
        } catch {
            Glibc.close(listenFd)
            throw error
        }
    }

    func start() {
        let thread = TestThread.start { [self] in acceptLoop() }
        state.withLock { $0.acceptThread = thread }
    }

    func stop() {
        let acceptThread: TestThread? = state.withLock { state in
            if state.isStopped { return nil }
            state.isStopped = true
            return state.acceptThread
        }
        guard let acceptThread else { return }
        // The wake socket is never drained, so every poll on it returns at once from now on.
        var byte: UInt8 = 1
        _ = write(wakeWrite, &byte, 1)
        acceptThread.join()
        let threads = state.withLock { state in
            defer { state.connectionThreads = [] }
            return state.connectionThreads
        }
        for thread in threads { thread.join() }
        Glibc.close(listenFd)
        Glibc.close(wakeRead)
        Glibc.close(wakeWrite)
    }

    func waitFor(_ what: String, timeout: Duration, _ isSatisfied: (State) -> Bool) throws {
        let satisfied = notifier.wait(until: .after(timeout)) { state.withLock { isSatisfied($0) } }
        if !satisfied {
            let summary = state.withLock { "\($0.requests.count) requests, \($0.accepted) connections" }
            throw TestingError.timedOut(
                "\(name) waited \(timeout.testDescription) for \(what) (has \(summary))")
        }
    }

    private func update(_ change: (inout State) -> Void) {
        state.withLock { change(&$0) }
        notifier.notify()
    }

    private func acceptLoop() {
        while true {
            guard let readiness = try? waitForEvents(listenFd, POLLIN, wakeFd: wakeRead, deadline: .never),
                readiness == .ready
            else { return }
            let flags = Int32(SOCK_CLOEXEC.rawValue | SOCK_NONBLOCK.rawValue)
            let fd = GNUFunctions.accept4(listenFd, nil, nil, flags)
            if fd < 0 {
                let code = errno
                if code == EAGAIN || code == EINTR || code == ECONNABORTED { continue }
                update { $0.connectionErrors.append("accept: \(errnoText(code))") }
                // Out of descriptors: back off briefly instead of spinning on a ready listener.
                if (try? pauseInterruptibly(until: .after(.milliseconds(10)), wakeFd: wakeRead)) == nil {
                    return
                }
                continue
            }
            let index = state.withLock { state in
                defer {
                    state.accepted += 1
                    state.open += 1
                }
                return state.accepted
            }
            notifier.notify()
            let thread = TestThread.start { [self] in serve(fd, index: index) }
            state.withLock { $0.connectionThreads.append(thread) }
        }
    }

    private func serve(_ fd: Int32, index: Int) {
        var openFd = fd
        defer {
            if openFd >= 0 { Glibc.close(openFd) }
            update { $0.open -= 1 }
        }
        let stream = SocketStream(fd: fd, wakeFd: wakeRead, peer: "\(name) connection #\(index)")
        stream.readSizeBytes = max(1, config.readChunkBytes)
        var requestIndex = 0
        do {
            while true {
                guard try awaitNextRequest(stream) else { return }
                let request: FakeRequest
                do {
                    request = try readRequest(stream, connection: index, requestIndex: requestIndex)
                } catch TestingError.malformed(let what) {
                    update { $0.protocolErrors.append(what) }
                    let answer = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                    try Array(answer.utf8).withUnsafeBytes {
                        try LoopbackSocket.sendAll(
                            fd, $0, limit: WaitLimit(inactivity: config.writeTimeout), wakeFd: wakeRead,
                            what: "400 response")
                    }
                    return
                }
                update { state in
                    state.requests.append(request)
                    state.bodyBytes += request.bodyByteCount
                }
                let writer = FakeConnectionWriter(
                    fd: fd, wakeFd: wakeRead, requestMethod: request.method, writeTimeout: config.writeTimeout
                )
                do {
                    try handler.respond(request, writer)
                } catch {
                    openFd = writer.fd
                    if case TestingError.stopped = error { return }
                    update { $0.handlerErrors.append("\(request.method) \(request.target): \(error)") }
                    return
                }
                openFd = writer.fd
                if writer.closesAfterResponse || !keepsAlive(request) { return }
                requestIndex += 1
            }
        } catch TestingError.stopped {
            return
        } catch {
            update { $0.connectionErrors.append("connection #\(index): \(error)") }
        }
    }

    /// Waits (idle) for the first byte of the next request; false when the peer closed.
    private func awaitNextRequest(_ stream: SocketStream) throws -> Bool {
        if stream.available > 0 { return true }
        stream.activity = "the next request"
        stream.limit = WaitLimit(deadline: config.idleTimeout.map { .after($0) } ?? .never)
        do {
            return try stream.fill()
        } catch TestingError.timedOut {
            return false
        } catch TestingError.connectionReset {
            // A client dropping an idle keep-alive connection with RST is not a request error.
            return false
        }
    }

    private func readRequest(_ stream: SocketStream, connection: Int, requestIndex: Int) throws -> FakeRequest
    {
        stream.activity = "request head"
        stream.limit = WaitLimit(inactivity: config.readTimeout)
        guard let head = try stream.readHead(maxBytes: config.maxHeadBytes, skipsLeadingEmptyLines: true)
        else {
            throw TestingError.connectionClosed("before a request head")
        }
        let parts = head.startLine.split(separator: " ", omittingEmptySubsequences: false)
        guard parts.count == 3, !parts[0].isEmpty, !parts[1].isEmpty, parts[2].hasPrefix("HTTP/1.") else {
            throw TestingError.malformed("request line \"\(head.startLine)\"")
        }
        var request = FakeRequest(
            method: String(parts[0]), target: String(parts[1]), version: String(parts[2]),
            headers: head.fields,
            connectionIndex: connection, indexOnConnection: requestIndex, upstreamName: name)
        let chunked = finalCodingIsChunked(head.fields)
        let length = try contentLength(of: head.fields, what: "request \(head.startLine)")
        // RFC 9112 section 6.1: a server must not trust Content-Length next to Transfer-Encoding,
        // and a request whose final coding is not chunked cannot be framed (section 6.3).
        if chunked != nil && length != nil {
            throw TestingError.malformed("request with both Transfer-Encoding and Content-Length")
        }
        if chunked == false { throw TestingError.malformed("request with a final coding other than chunked") }
        if chunked == nil && (length ?? 0) == 0 { return request }

        if HeaderList.contains(token: "100-continue", in: "expect", of: head.fields) {
            // Answer like a typical origin server that reads the body: RFC 9110 section 10.1.1.
            try Array("HTTP/1.1 100 Continue\r\n\r\n".utf8).withUnsafeBytes {
                try LoopbackSocket.sendAll(
                    stream.fd, $0, limit: WaitLimit(inactivity: config.writeTimeout), wakeFd: wakeRead,
                    what: "100 Continue")
            }
        }
        stream.activity = "request body of \(request.method) \(request.target)"
        var body: [UInt8] = []
        var count = 0
        let stores = config.storesBodies
        let sink: (ArraySlice<UInt8>) -> Void = { piece in
            count += piece.count
            if stores { body.append(contentsOf: piece) }
        }
        let delay = config.readDelayPerChunk
        let afterPiece: () throws -> Void = { [wakeRead] in
            if delay > .zero { try pauseInterruptibly(until: .after(delay), wakeFd: wakeRead) }
        }
        if chunked == true {
            request.trailers = try stream.readChunkedBody(sink: sink, afterPiece: afterPiece)
            request.wasChunked = true
        } else if let length {
            try stream.readExactly(length, sink: sink, afterPiece: afterPiece)
        }
        request.body = body
        request.bodyByteCount = count
        return request
    }

    private func keepsAlive(_ request: FakeRequest) -> Bool {
        if HeaderList.contains(token: "close", in: "connection", of: request.headers) { return false }
        if request.version == "HTTP/1.0" {
            return HeaderList.contains(token: "keep-alive", in: "connection", of: request.headers)
        }
        return true
    }
}
