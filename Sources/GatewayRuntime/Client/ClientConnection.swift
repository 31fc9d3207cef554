import Gateway
import HTTP1
import Reactor

/// One client connection on one loop: reads requests, hands each to a `ProxyExchange` or
/// answers it directly, and writes responses in request order.
///
/// Pipelined requests are served one at a time: the next head is parsed only after the
/// current response is complete, so responses can never overtake each other.
final class ClientConnection: IOHandler, TimerHandler, DeferredHandler {
    enum Phase {
        /// Waiting for (the rest of) a request head.
        case awaitingHead
        /// A complete head waits (still in `input`) for a cluster rate limit's verdict from
        /// Redis; nothing more is read meanwhile (`resumeAfterRateLimit`).
        case awaitingRateLimit
        /// A request is being proxied.
        case exchanging
        /// The last response is being written; close when it is out.
        case closingAfterFlush
        case closed
    }

    // Stored properties in an order that packs them (Swift lays a class out in declaration
    // order, padding each field to its alignment): the descriptor and the one-byte fields
    // fill the gaps around `peer` (10 bytes), then come the words. An idle connection is
    // mostly this object, and its size decides its malloc size class (docs/performance.md,
    // "Memory per idle connection").
    let fd: Int32
    /// Changed only by the connection itself; the dispatcher and the exchange ask for changes
    /// through `beginExchange` and the `exchange…` methods.
    private(set) var phase: Phase = .awaitingHead
    var readable = false
    var writable = true
    /// The peer closed its side (or reset); nothing more will arrive.
    var peerClosed = false
    let peer: SocketAddress?
    /// epoll reported a hangup: the end of the stream is near, and no further edge will say so.
    private var hangupSeen = false
    /// Set once the first byte of the current request head arrived (for requestHeaderMs).
    private var headStarted = false
    /// True while `drive()` runs, so a request finishing inside it does not re-enter it.
    private var isDriving = false
    // Strong (a `let` is used without reference counting, unlike an unowned one): the cycle
    // with the worker's connection table ends when the connection closes.
    let worker: Worker
    let listener: RuntimeListener
    var input: ByteBuffer
    var output: ByteBuffer
    /// Bytes of a large gateway-made response that did not fit in `output` yet.
    private var overflow: [UInt8] = []
    var parser: RequestHeadParser
    /// The request being proxied (phase `.exchanging`).
    private(set) var exchange: ProxyExchange?
    /// The connection's timeout (header, idle, body progress); fires at or before `timeoutDue`.
    let timer = LoopTimer()
    /// When the current phase times out, or `unarmed`. The heap timer may be scheduled
    /// earlier; it then re-checks and moves itself here, so re-arming on every request
    /// touches the timer heap only when the due time moves earlier.
    private var timeoutDue = unarmed
    /// The current exchange's deadline, or `unarmed`, watched by the same timer: one timer
    /// object per connection keeps an idle connection small.
    private var deadlineDue = unarmed
    /// "Not armed" for the due times (no monotonic reading is ever 0); not an optional, which
    /// would take a word more per connection.
    private static var unarmed: Instant { .zero }
    /// When bytes last moved for the current exchange (either socket), for `idleMs`.
    private(set) var lastProgressAt = Instant.zero
    /// The peer's IP as text, made once per connection.
    private(set) lazy var peerText: String = peer?.ipText ?? "unknown"
    /// The peer ended its side cleanly (end of stream, not an error): it may still read.
    private(set) var finishedSending = false
    /// The peer's rate-limit key (`RateLimitKeys`), worked out once per connection.
    private(set) lazy var peerKey: UInt64 = peer.map { RateLimitKeys.hash($0.gatewayIP) } ?? 0

    init(fd: Int32, worker: Worker, peer: SocketAddress?, listener: RuntimeListener) {
        self.fd = fd
        self.worker = worker
        self.peer = peer
        self.listener = listener
        let snapshot = worker.snapshot
        self.input = ByteBuffer(capacity: snapshot.bufferBytes, pool: worker.buffers)
        self.output = ByteBuffer(capacity: snapshot.bufferBytes, pool: worker.buffers)
        self.parser = RequestHeadParser(
            limits: HeadLimits(maxHeaderBytes: snapshot.config.limits.maxRequestHeaderBytes))
        timer.handler = self
    }

    var timeouts: TimeoutsConfig { worker.snapshot.config.timeouts }

    /// Starts serving: the header timeout runs from accept for the first request.
    func start() throws(SystemError) {
        Socket.setNoDelay(fd)
        try worker.loop.register(fd, handler: self)
        armTimeout(after: timeouts.requestHeader)
        headStarted = true
    }

    // MARK: Events

    func handleIO(_ events: IOEvents) {
        if events.contains(.writable) { writable = true }
        if !events.intersection([.readable, .readHangup, .hangup, .error]).isEmpty { readable = true }
        if !events.intersection([.readHangup, .hangup, .error]).isEmpty { hangupSeen = true }
        if writable && !output.isEmpty {
            guard flush() else { return }
        }
        // Room on the client side lets a response held back by backpressure flow again.
        if events.contains(.writable), phase == .exchanging, let exchange { exchange.clientWritable() }
        drive()
    }

    @inline(__always)
    func armTimeout(after span: TimeSpan) {
        timeoutDue = worker.loop.instant + max(span, .zero)
        worker.loop.schedule(timer, noLaterThan: timeoutDue)
    }

    func disarmTimeout() { timeoutDue = Self.unarmed }

    /// Arms the current exchange's deadline (route timeout or X-Request-Timeout-Ms).
    func armDeadline(at deadline: Instant) {
        deadlineDue = deadline
        worker.loop.schedule(timer, noLaterThan: deadlineDue)
    }

    func disarmDeadline() { deadlineDue = Self.unarmed }

    func timerFired(_ timer: LoopTimer) {
        let now = worker.loop.instant
        if deadlineDue != Self.unarmed && now >= deadlineDue {
            deadlineDue = Self.unarmed
            exchange?.deadlinePassed()
        }
        if let due = effectiveTimeoutDue, now >= due {
            timeoutDue = Self.unarmed
            handleTimeout()
        }
        // Whatever is still pending (or was armed while handling): wait for the earliest.
        guard phase != .closed else { return }
        var next = effectiveTimeoutDue
        if deadlineDue != Self.unarmed { next = min(next ?? deadlineDue, deadlineDue) }
        if let next { worker.loop.schedule(timer, noLaterThan: next) }
    }

    /// When the current timeout expires; while a request is proxied it moves with progress
    /// (bytes only stamp a time, so busy streams never touch the timer heap).
    private var effectiveTimeoutDue: Instant? {
        guard timeoutDue != Self.unarmed else { return nil }
        guard phase == .exchanging else { return timeoutDue }
        return max(timeoutDue, lastProgressAt + max(timeouts.idle, .zero))
    }

    private func handleTimeout() {
        switch phase {
        case .awaitingHead:
            if input.isEmpty && !headStarted {
                close()  // idle keep-alive connection
            } else {
                refuseHead(ProxyError(.requestTimeout, "the request header was not received in time"))
            }
        case .exchanging:
            exchange?.idleTimeout()
        case .closingAfterFlush:
            close()  // the client stopped reading the last response
        case .awaitingRateLimit, .closed:
            break
        }
    }

    // MARK: Reading requests

    func noteProgress() { lastProgressAt = worker.loop.instant }

    func runDeferred() { drive() }

    /// Makes as much progress as the sockets allow.
    func drive() {
        let wasDriving = isDriving
        isDriving = true
        defer { isDriving = wasDriving }
        while true {
            switch phase {
            case .awaitingHead:
                guard output.isEmpty else { return }  // the previous response is still going out
                if !input.isEmpty {
                    if !headStarted {
                        headStarted = true
                        armTimeout(after: timeouts.requestHeader)
                    }
                    if parseHead() { continue }
                    if phase != .awaitingHead { continue }
                }
                guard readMore() else { return }
            case .exchanging:
                guard let exchange else { return }
                exchange.pumpRequestBody()
                if phase == .exchanging && readable && !peerClosed && input.readableCount < input.capacity {
                    if !readMore() && phase == .exchanging { return }
                    continue
                }
                return
            case .closingAfterFlush:
                if output.isEmpty { close() }
                return
            case .awaitingRateLimit, .closed:
                return
            }
        }
    }

    /// Reads what the socket has; false when nothing new can be read now.
    private func readMore() -> Bool {
        guard readable, !peerClosed else { return false }
        switch input.fill(from: fd) {
        case .progressed(let drained):
            // After a hangup no new edge will come, so keep reading until the end is seen.
            if drained && !hangupSeen { readable = false }
            noteProgress()
            return true
        case .wouldBlock:
            readable = false
            return false
        case .bufferFull:
            return false
        case .endOfStream:
            peerClosed = true
            finishedSending = true
            peerWentAway()
            return false
        case .failed:
            peerClosed = true
            peerWentAway()
            return false
        }
    }

    private func peerWentAway() {
        switch phase {
        case .awaitingHead:
            close()
        case .exchanging:
            exchange?.clientGone()
        case .closingAfterFlush, .closed:
            close()
        case .awaitingRateLimit:
            break  // not reading then; the request goes on once its verdict is in
        }
    }

    /// Tries to parse a head from the input; true when a complete head was handled (then the
    /// phase says what comes next: an exchange, the next pipelined head, or closing).
    private func parseHead() -> Bool {
        let result: HeadParseResult<RequestHead>
        do {
            result = try parser.parse(input.readable, fieldStorage: &worker.fieldStorage)
        } catch {
            refuseHead(Self.proxyError(for: error))
            return false
        }
        guard case .complete(let head) = result else {
            if input.writableCount == 0 && input.readableCount >= input.capacity {
                refuseHead(ProxyError(.headersTooLarge, "the request header is too large"))
            }
            return false
        }
        disarmTimeout()
        headStarted = false
        worker.dispatcher.dispatch(head, from: self)
        return true
    }

    static func proxyError(for error: HTTP1ParseError) -> ProxyError {
        switch error {
        case .badRequest(let reason): return ProxyError(.badRequest, reason)
        case .uriTooLong: return ProxyError(.uriTooLong, "the request target is too long")
        case .headersTooLarge: return ProxyError(.headersTooLarge, "the request header is too large")
        case .notImplemented(let reason): return ProxyError(.notImplemented, reason)
        case .versionNotSupported:
            return ProxyError(.versionNotSupported, "only HTTP/1.0 and HTTP/1.1 are served")
        case .badResponse(let reason): return ProxyError(.badRequest, reason)
        }
    }

    // MARK: Writing responses

    /// Writes pending output; false when the connection failed (it is then closed).
    @discardableResult
    func flush() -> Bool {
        while writable && !output.isEmpty {
            let before = output.readableCount
            let outcome = output.flush(to: fd)
            if output.readableCount != before {
                noteProgress()
                exchange?.clientOutputSent()
            }
            switch outcome {
            case .flushed:
                if !overflow.isEmpty {
                    let count = min(overflow.count, output.capacity)
                    overflow.withUnsafeBytes {
                        output.append(UnsafeRawBufferPointer(rebasing: $0[0..<count]))
                    }
                    overflow.removeFirst(count)
                    continue
                }
                if phase == .closingAfterFlush {
                    close()
                    return false
                }
                output.releaseIfEmpty()
            case .wouldBlock:
                writable = false
            case .failed:
                peerClosed = true
                if phase == .exchanging, let exchange {
                    exchange.clientGone()
                } else {
                    close()
                }
                return false
            }
        }
        return true
    }

    /// Answers the current request with a gateway error (no exchange running); returns the
    /// body bytes sent.
    @discardableResult
    func respondWithError(_ error: ProxyError, request: RequestContext, closing: Bool) -> Int {
        let close = closing || error.closesClientConnection || !request.keepAlive
        return writeError(error, requestID: request.requestID, close: close, request: request)
    }

    /// Refuses a request whose head could not be taken (400, 408, 414, 431, ...): answered as
    /// HTTP/1.1, then the connection closes. The access log gets what was parsed of it.
    private func refuseHead(_ error: ProxyError) {
        var method: [UInt8] = []
        var target: [UInt8] = []
        if let line = parser.failedRequestLine {
            let bytes = input.readable
            method = Array(line.method.bytes(in: bytes))
            target = Array(line.target.bytes(in: bytes))
        }
        let requestID = worker.newRequestID()
        let sent = writeError(error, requestID: requestID, close: true, request: nil)
        worker.recordRefusedHead(
            error, requestID: requestID, method: method, target: target, bytesOut: sent, client: self)
    }

    private func writeError(_ error: ProxyError, requestID: RequestID, close: Bool, request: RequestContext?)
        -> Int
    {
        let body = GatewayErrorBody.make(error, requestID: requestID.bytes)
        return writeResponse(
            status: error.status, body: body, contentType: Self.jsonType,
            extraHeaders: [
                (Self.gatewayErrorName, Array(error.code.utf8)), (Self.requestIDName, requestID.bytes),
            ],
            close: close, request: request)
    }

    static let jsonType = Array("application/json".utf8)
    static let gatewayErrorName = Array("X-Gateway-Error".utf8)
    static let requestIDName = Array("X-Request-Id".utf8)

    /// Writes a complete gateway-made response and moves to the next request (or closing);
    /// returns the body bytes sent (none for HEAD).
    @discardableResult
    func writeResponse(
        status: Int, body: [UInt8], contentType: [UInt8], extraHeaders: [([UInt8], [UInt8])],
        close: Bool, request: RequestContext?, routeHeaders: HeaderRules? = nil
    ) -> Int {
        let close = close || isLastRequestOfDrain
        let headOnly = request?.method == .head
        let version = request?.version ?? .http11
        var out: [UInt8] = []
        out.reserveCapacity(256 + body.count)
        HTTP1Writer.statusLine(status: status, into: &out)
        HTTP1Writer.field(name: "Date".utf8, value: worker.dateCache.current(), into: &out)
        HTTP1Writer.field(name: "Content-Type".utf8, value: contentType, into: &out)
        var length: [UInt8] = []
        HTTP1Writer.appendDecimal(UInt64(body.count), into: &length)
        HTTP1Writer.field(name: "Content-Length".utf8, value: length, into: &out)
        HTTP1Writer.field(name: "Via".utf8, value: "1.1 portico".utf8, into: &out)
        for (name, value) in extraHeaders { HTTP1Writer.field(name: name, value: value, into: &out) }
        if let fields = request?.rateLimitFields { out.append(contentsOf: fields) }
        if let routeHeaders {
            for entry in routeHeaders.set {
                HTTP1Writer.field(name: entry.name, value: entry.value, into: &out)
            }
        }
        if close {
            HTTP1Writer.field(name: "Connection".utf8, value: "close".utf8, into: &out)
        } else if version == .http10 {
            HTTP1Writer.field(name: "Connection".utf8, value: "keep-alive".utf8, into: &out)
        }
        HTTP1Writer.endOfHead(into: &out)
        if !headOnly { out.append(contentsOf: body) }
        enqueue(out)
        finishRequest(close: close)
        return headOnly ? 0 : body.count
    }

    /// Sends a complete response the caller wrote, then serves the next request or closes.
    func sendResponse(_ bytes: UnsafeRawBufferPointer, close: Bool) {
        enqueue(bytes)
        finishRequest(close: close)
    }

    /// Queues bytes for the client. What does not fit in the buffer waits in `overflow`
    /// (only gateway-made responses, whose size the configuration bounds, take this path).
    func enqueue(_ bytes: [UInt8], flush flushNow: Bool = true) {
        bytes.withUnsafeBytes { enqueue($0, flush: flushNow) }
    }

    func enqueue(_ raw: UnsafeRawBufferPointer, flush flushNow: Bool = true) {
        output.makeRoom(atLeast: raw.count)
        let fitting = min(raw.count, output.writableCount)
        output.append(UnsafeRawBufferPointer(rebasing: raw[0..<fitting]))
        if fitting < raw.count { overflow.append(contentsOf: raw[fitting...]) }
        if flushNow { flush() }
    }

    /// Part of what was queued did not fit in the buffer and waits behind it.
    var hasOverflow: Bool { !overflow.isEmpty }

    /// Bytes queued for the client and not written yet.
    var queuedOutputCount: Int { output.readableCount + overflow.count }

    /// Drops queued output after its first `count` bytes: a response head queued but not
    /// written, which a gateway error replaces.
    func withdrawOutput(keeping count: Int) {
        let excess = queuedOutputCount - count
        guard excess > 0 else { return }
        let fromOverflow = min(excess, overflow.count)
        overflow.removeLast(fromOverflow)
        output.removeLast(excess - fromOverflow)
    }

    // MARK: Waiting for a cluster rate limit

    /// The head just dispatched waits for Redis; its bytes stay in `input` until the verdict.
    func parkForRateLimit() {
        phase = .awaitingRateLimit
    }

    /// The verdict for the parked head (on this loop): the head is parsed and dispatched
    /// again with `verdict` instead of asking the limiter (it was counted the first time, and
    /// `startedAt` keeps its latency from its arrival). The head's fields lived in the loop's
    /// shared field storage, which later heads have reused, hence the new parse.
    func resumeAfterRateLimit(_ verdict: ClusterRateLimiter.Verdict, startedAt: Instant) {
        guard phase == .awaitingRateLimit else { return }  // closed meanwhile
        phase = .awaitingHead
        // The same bytes parsed before, so this cannot fail; if it did, the connection ends.
        guard
            case .complete(let head)? = try? parser.parse(input.readable, fieldStorage: &worker.fieldStorage)
        else {
            close()
            return
        }
        worker.dispatcher.dispatch(
            head, from: self, resumed: ResumedRateLimit(verdict: verdict, startedAt: startedAt))
        drive()
    }

    // MARK: The exchange's ends

    /// A proxied request begins; the connection waits for it to end.
    func beginExchange(_ exchange: ProxyExchange) {
        self.exchange = exchange
        phase = .exchanging
    }

    /// The exchange delivered its response; `close` when it must be the connection's last.
    func exchangeEnded(close: Bool) {
        finishRequest(close: close)
    }

    /// The exchange ended with a gateway-made error instead of an upstream response; returns
    /// the body bytes sent.
    func exchangeFailed(_ error: ProxyError, context: RequestContext, close: Bool) -> Int {
        exchange = nil
        return respondWithError(error, request: context, closing: close)
    }

    /// The exchange ended without a (complete) response: the client was cut off or left.
    func exchangeAborted() {
        exchange = nil
        close()
    }

    /// During a drain, the response being written is the connection's last unless another
    /// request is already waiting in the input (pipelined requests are still served).
    var isLastRequestOfDrain: Bool { worker.isDraining && input.isEmpty }

    /// Closes a connection that waits for its next request (the gateway drains), once the
    /// rest of its last response is written: a client that reads slowly still gets it whole.
    func closeBetweenRequests() {
        phase = .closingAfterFlush
        if output.isEmpty {
            close()
        } else {
            armTimeout(after: timeouts.idle)
        }
    }

    /// Closes a connection waiting for its next request (the gateway drains) unless a request
    /// arrives within `grace`; one that does is served as the connection's last. A response
    /// still being written is finished first, as `closeBetweenRequests` does.
    func closeWhenIdle(after grace: TimeSpan) {
        guard output.isEmpty else {
            closeBetweenRequests()
            return
        }
        headStarted = false  // so the timeout closes quietly instead of answering 408
        armTimeout(after: grace)
    }

    /// The current request is done; serve the next one or close.
    func finishRequest(close: Bool) {
        exchange = nil
        // Writing the response may already have closed the connection (the peer reset it).
        guard phase != .closed else { return }
        if close || peerClosed || isLastRequestOfDrain {
            closeBetweenRequests()
            return
        }
        phase = .awaitingHead
        parser.reset()
        headStarted = false
        if input.isEmpty {
            input.releaseIfEmpty()
            armTimeout(after: timeouts.idle)
        } else {
            headStarted = true
            armTimeout(after: timeouts.requestHeader)
        }
        // A pipelined request may be waiting in the input already; serve it on the next
        // iteration (not recursively, so a long pipeline cannot grow the stack).
        if !isDriving && (!input.isEmpty || readable) { worker.loop.deferToNextIteration(self) }
    }

    func close() {
        guard phase != .closed else { return }
        phase = .closed
        if let exchange {
            self.exchange = nil
            exchange.clientGone()
        }
        worker.loop.cancel(timer)
        worker.loop.deregister(fd)
        closeDescriptor(fd)
        worker.clientClosed(self)
    }
}
