import Gateway
import HTTP1
import Reactor

/// One proxied request: connects (or reuses a pooled connection), forwards the re-framed
/// request, and streams the response back, with backpressure both ways.
///
/// The phases and their error edges live in `ExchangeStateMachine`; this class performs
/// its actions on sockets and timers. Loop-confined.
final class ProxyExchange {
    /// The connection the current request came on. Unretained: it owns the exchange while
    /// the request runs and ends it (clientGone) before it goes. The hot paths use it through
    /// `withClient`, which costs no retain/release pair (an unowned reference costs one per
    /// use).
    private var clientRef: Unmanaged<ClientConnection>
    var client: ClientConnection { clientRef.takeUnretainedValue() }

    /// The client without a retain: only inside a call that keeps the client alive, which
    /// every entry from the client side does (the loop holds a handler during its events,
    /// timers and deferred calls) and `holdingClient` does for entries from the upstream side.
    @inline(__always)
    private func withClient<R>(_ body: (ClientConnection) -> R) -> R {
        clientRef._withUnsafeGuaranteedRef(body)
    }

    /// Entries from the upstream side (its socket and timer events) hold the client here:
    /// the exchange may close it, which can drop its last other reference mid-call.
    @inline(__always)
    private func holdingClient(_ body: () -> Void) {
        withExtendedLifetime(clientRef.takeUnretainedValue()) { body() }
    }
    // Strong: a `let` is used without reference counting. The worker's spare list holds
    // exchanges; `Worker.closeAll` empties it, which ends that cycle.
    let worker: Worker
    /// The generation this request runs under, kept alive by the exchange.
    private(set) var snapshot: RuntimeSnapshot
    // unowned(unsafe): parts of `snapshot`, which this exchange holds.
    unowned(unsafe) var route: RuntimeRoute
    unowned(unsafe) var upstream: RuntimeUpstream
    unowned(unsafe) var server: RuntimeServer
    var machine = ExchangeStateMachine()
    var connection: UpstreamConnection?
    var record: RequestRecord
    /// The client's Host (as sent, port included), kept only when the route maps redirects
    /// back (`RuntimeRoute.redirectRewrite`); nil otherwise or when the client sent none.
    var clientHost: [UInt8]?

    /// The serialized upstream request head while a new connection is being opened.
    private var pendingHead: [UInt8] = []
    private var requestDecoder = BodyDecoder(framing: .none)
    private var requestHasBody = false
    private var forwardChunked = false
    private(set) var requestBodyDone = true
    private var requestBodyBytes: UInt64 = 0
    private var expectContinue = false
    private var maxRequestBodyBytes = UInt64.max

    private var responseParser: ResponseHeadParser
    private var responseDecoder = BodyDecoder(framing: .none)
    private var responseFraming = ResponseFraming.none
    private var responseDone = false
    /// The response head is queued but not sent: its body had not arrived with it, and one
    /// more read of the upstream decides whether they leave together (one segment, one
    /// wakeup for the client) or the head goes alone right away (the read would block).
    private var headHeldForBody = false
    private var upstreamReusable = true
    private var responseDecoderIsCloseDelimited = false
    private var requestMethod = HTTPMethod.get
    private var clientVersion = HTTPVersion.http11
    var isHTTP10Client: Bool { clientVersion == .http10 }
    private var clientKeepAlive = true
    /// The request's record went to the stats and the access log.
    private var recorded = false
    /// Handed back to the worker for another request (see `Worker.retire`).
    private var retired = false
    /// The loop iteration it was retired in (see `Worker.retire`).
    var retiredIteration: UInt64 = 0

    /// How the response body is framed towards the client.
    enum ResponseFraming {
        case none
        case contentLength
        case chunked
        /// An HTTP/1.0 client and a body of unknown length: send it raw and close.
        case closeDelimited
    }

    init(
        client: ClientConnection, worker: Worker, snapshot: RuntimeSnapshot, route: RuntimeRoute,
        upstream: RuntimeUpstream, server: RuntimeServer, head: RequestHead, record: RequestRecord
    ) {
        self.clientRef = Unmanaged.passUnretained(client)
        self.worker = worker
        self.snapshot = snapshot
        self.route = route
        self.upstream = upstream
        self.server = server
        self.record = record
        self.responseParser = ResponseHeadParser(
            limits: HeadLimits(maxHeaderBytes: snapshot.config.limits.maxResponseHeaderBytes))
        prepare(for: head)
    }

    /// Makes a retired exchange serve a new request (no allocation: the response parser keeps
    /// its field storage).
    func reuse(
        client: ClientConnection, snapshot: RuntimeSnapshot, route: RuntimeRoute, upstream: RuntimeUpstream,
        server: RuntimeServer, head: RequestHead, requestID: RequestID, startedAt: UInt64,
        logDetails: RequestLogDetails?
    ) {
        self.clientRef = Unmanaged.passUnretained(client)
        if self.snapshot !== snapshot {
            self.snapshot = snapshot
            responseParser = ResponseHeadParser(
                limits: HeadLimits(maxHeaderBytes: snapshot.config.limits.maxResponseHeaderBytes))
        }
        self.route = route
        self.upstream = upstream
        self.server = server
        record.restart(requestID: requestID, startedAt: startedAt, logDetails: logDetails)
        machine = ExchangeStateMachine()
        // A request whose connect never completed leaves its head here.
        pendingHead = []
        // Every way an exchange ends lets go of its connection; never inherit one.
        if let stale = connection {
            connection = nil
            stale.close(reset: true)
        }
        responseParser.reset()
        responseFraming = .none
        responseDone = false
        headHeldForBody = false
        upstreamReusable = true
        responseDecoderIsCloseDelimited = false
        requestBodyBytes = 0
        recorded = false
        retired = false
        prepare(for: head)
    }

    private func prepare(for head: RequestHead) {
        record.route = route
        record.upstream = upstream
        record.server = server
        requestDecoder.reset(framing: head.framing)
        responseDecoder.reset(framing: .none)
        requestHasBody = !head.framing.isEmpty
        forwardChunked = head.framing == .chunked
        requestBodyDone = !requestHasBody
        expectContinue = head.expectContinue && requestHasBody
        let limit = snapshot.config.limits.maxRequestBodyBytes
        maxRequestBodyBytes = limit > 0 ? UInt64(limit) : UInt64.max
        requestMethod = head.method
        clientVersion = head.version
        clientKeepAlive = head.isKeepAlive
    }

    /// Hands the exchange back to the worker once nothing refers to it any more.
    private func retire() {
        guard !retired else { return }
        retired = true
        worker.retire(self)
    }

    // MARK: Starting

    /// Arms the deadline and gets a connection; `requestHead` is sent on it (copied, so the
    /// caller may reuse its buffer).
    func start(deadlineMs: Int?, requestHead: UnsafeRawBufferPointer) {
        withClient { client in
            if let deadlineMs { client.armDeadline(milliseconds: deadlineMs) }
            client.noteProgress()
            client.armTimeout(milliseconds: snapshot.config.timeouts.idle.milliseconds)
        }
        record.attempts += 1
        record.upstreamStartedAt = worker.loop.now
        worker.exchangeStarted(&record, server: server)
        if let pooled = worker.pool.take(for: server) {
            attach(pooled)
            pooled.output.append(requestHead)
            upstreamConnected()
            return
        }
        pendingHead = Array(requestHead)
        do throws(SystemError) {
            let (fd, progress) = try Socket.startConnect(to: server.address)
            Socket.setNoDelay(fd)
            let fresh = UpstreamConnection(
                fd: fd, worker: worker, server: server, connected: progress == .connected,
                bufferBytes: snapshot.bufferBytes)
            do {
                try worker.loop.register(fd, handler: fresh)
            } catch {
                closeDescriptor(fd)
                throw error
            }
            worker.upstreamOpened(fresh)
            attach(fresh)
            if progress == .connected {
                upstreamConnected()
            } else {
                worker.loop.schedule(fresh.timer, inMilliseconds: upstream.connectTimeoutMs)
            }
        } catch {
            upstreamConnectFailed(error.reason)
        }
    }

    private func attach(_ connection: UpstreamConnection) {
        self.connection = connection
        connection.exchange = self
    }

    // MARK: Upstream events

    func upstreamConnected() {
        holdingClient {
            guard machine.connectionReady() == .sendRequest, let connection else { return }
            if !pendingHead.isEmpty {
                pendingHead.withUnsafeBytes { connection.output.append($0) }
                pendingHead = []
            }
            if expectContinue && clientVersion == .http11 {
                // The gateway answers the expectation itself once it can take the body (SPEC 4).
                client.enqueue(Array("HTTP/1.1 100 Continue\r\n\r\n".utf8))
                expectContinue = false
            }
            upstreamReady()
        }
    }

    func upstreamConnectFailed(_ reason: String) {
        holdingClient {
            record.upstreamFailed = true
            perform(machine.connectFailed("cannot connect to \(server.key): \(reason)"))
        }
    }

    /// The upstream socket became readable or writable.
    func upstreamReady() {
        holdingClient {
            withClient { client in
                guard let connection, !machine.isFinished else { return }
                if !connection.flush() {
                    perform(
                        machine.upstreamClosed("the upstream connection failed while sending the request"))
                    return
                }
                // The client side pumps the body and reads more of it as room appears.
                if !requestBodyDone { client.drive() }
                if !machine.isFinished { readResponse() }
            }
        }
    }

    // MARK: Request body: client → upstream

    /// Moves request body bytes from the client's input to the upstream's output, framed anew.
    func pumpRequestBody() {
        guard !requestBodyDone, let connection, connection.phase == .active, !machine.isFinished else {
            return
        }
        let overhead = 32
        while !requestBodyDone {
            connection.output.makeRoom(atLeast: connection.output.capacity / 2)
            let room = connection.output.writableCount - overhead
            if room <= 0 || client.input.isEmpty { break }
            let available = client.input.readable
            let slice = UnsafeRawBufferPointer(rebasing: available[0..<min(available.count, room)])
            let step: BodyStep
            do {
                step = try requestDecoder.decode(slice)
            } catch {
                clientSentBadBody(ClientConnection.proxyError(for: error))
                return
            }
            if let range = step.data {
                requestBodyBytes += UInt64(range.count)
                if requestBodyBytes > maxRequestBodyBytes {
                    clientSentBadBody(ProxyError(.payloadTooLarge, "the request body is too large"))
                    return
                }
                if forwardChunked { connection.output.appendChunkHeader(size: range.count) }
                connection.output.append(UnsafeRawBufferPointer(rebasing: slice[range]))
                if forwardChunked { connection.output.appendCRLF() }
                record.bytesIn += range.count
            }
            client.input.consume(step.consumed)
            if step.isComplete {
                requestBodyDone = true
                if forwardChunked {
                    var last: [UInt8] = []
                    HTTP1Writer.lastChunk(trailers: forwardableTrailers(step.trailers), into: &last)
                    last.withUnsafeBytes { connection.output.append($0) }
                }
            } else if step.consumed == 0 && step.data == nil {
                break
            }
        }
        if !connection.flush() {
            perform(machine.upstreamClosed("the upstream connection failed while sending the request"))
            return
        }
        if requestBodyDone && responseDone { complete() }
    }

    /// Trailer fields that may cross the proxy: not framing, routing or hop-by-hop fields (SPEC 4).
    private func forwardableTrailers(_ trailers: [TrailerField]) -> [TrailerField] {
        trailers.filter { field in
            let known = field.name.withUnsafeBytes { KnownField(name: $0) }
            return !known.isHopByHop && known != .contentLength && known != .host
                && known != .contentType
        }
    }

    private func clientSentBadBody(_ error: ProxyError) {
        client.peerClosed = true  // the rest of the stream cannot be trusted
        switch machine.state {
        case .streamingResponse, .finished:
            abortBoth()
        case .connecting, .awaitingResponseHead:
            _ = machine.clientGone()
            closeUpstream(reset: true)
            finishRecord(status: error.status, error: error)
            client.disarmDeadline()
            client.exchange = nil
            client.phase = .awaitingHead
            client.respondWithError(error, request: requestContext, closing: true)
            retire()
        }
    }

    // MARK: Response: upstream → client

    private func readResponse() {
        withClient { client in
            guard let connection else { return }
            while !machine.isFinished {
                if machine.state == .awaitingResponseHead {
                    if !connection.input.isEmpty, parseResponseHead(connection) { continue }
                    if machine.isFinished { return }
                } else {
                    pumpResponseBody(connection)
                    if machine.isFinished || responseDone { return }
                    // Backpressure: the client must take what is queued first (a held head
                    // too, or nothing would ever send it).
                    if client.output.writableCount < 1024 && !client.output.isEmpty {
                        releaseHeldHead(client)
                        return
                    }
                }
                guard connection.readable else { return }
                switch connection.input.fill(from: connection.fd) {
                case .progressed(let drained):
                    if drained && !connection.hangupSeen { connection.readable = false }
                    client.noteProgress()
                case .wouldBlock:
                    connection.readable = false
                    releaseHeldHead(client)
                    return
                case .bufferFull:
                    if machine.state == .awaitingResponseHead {
                        perform(machine.upstreamBadResponse("the response header is too large"))
                    }
                    return
                case .endOfStream:
                    connection.readable = false
                    upstreamEnded()
                    return
                case .failed(let error):
                    connection.readable = false
                    record.upstreamFailed = true
                    perform(machine.upstreamClosed("the upstream connection failed: \(error.reason)"))
                    return
                }
            }
        }
    }

    /// Sends a response head held back for its body (see `headHeldForBody`).
    private func releaseHeldHead(_ client: ClientConnection) {
        guard headHeldForBody else { return }
        headHeldForBody = false
        client.flush()
    }

    /// The upstream closed its side.
    private func upstreamEnded() {
        withClient { releaseHeldHead($0) }
        guard let connection else { return }
        if machine.state == .streamingResponse && responseFraming != .none
            && responseDecoderIsCloseDelimited
        {
            pumpResponseBody(connection)  // deliver what is buffered first
            responseDone = true
            upstreamReusable = false
            finishResponseBody()
            return
        }
        record.upstreamFailed = true
        perform(machine.upstreamClosed("the upstream closed the connection before the response was complete"))
    }

    /// Parses a response head; true when one (interim or final) was consumed.
    private func parseResponseHead(_ connection: UpstreamConnection) -> Bool {
        withClient { client in
            let result: HeadParseResult<ResponseHead>
            do {
                result = try responseParser.parse(
                    connection.input.readable, fieldStorage: &worker.fieldStorage)
            } catch {
                record.upstreamFailed = true
                perform(machine.upstreamBadResponse("the upstream sent a malformed response"))
                return false
            }
            guard case .complete(let head) = result else { return false }
            if head.isInformational {
                if head.status == 101 {
                    perform(
                        machine.upstreamBadResponse(
                            "the upstream switched protocols without an upgrade request"))
                    return false
                }
                // 100 is dropped: the gateway answered the client's expectation itself. Other
                // 1xx (e.g. 103 Early Hints) reach HTTP/1.1 clients only (SPEC 4).
                if head.status != 100 && clientVersion == .http11 {
                    worker.responseHeadWriter.reset()
                    ResponseHeadWriter.writeInterim(
                        head, from: connection.input.readable, into: &worker.responseHeadWriter)
                    client.enqueue(worker.responseHeadWriter.bytes)
                }
                connection.input.consume(head.headLength)
                responseParser.reset()
                return true
            }
            guard machine.responseHeadReceived() == .forwardResponseHead else { return false }
            record.status = head.status
            record.upstreamHeadAt = worker.loop.now
            let framing = head.framing(requestMethod: requestMethod)
            responseDecoder.reset(framing: framing)
            responseDecoderIsCloseDelimited = framing == .untilClose
            if head.connectionClose || framing == .untilClose
                || head.version == .http10 && !head.connectionKeepAlive
            {
                upstreamReusable = false
            }
            switch framing {
            case .none:
                responseFraming = .none
            case .contentLength:
                responseFraming = .contentLength
            case .chunked, .untilClose:
                if clientVersion == .http11 {
                    responseFraming = .chunked
                } else {
                    responseFraming = .closeDelimited
                    clientKeepAlive = false
                }
            }
            if !requestBodyDone && !client.peerClosed {
                // An early answer: the rest of the request body is never read, so the client
                // connection cannot carry another request.
                clientKeepAlive = false
            }
            if worker.isDraining && (!requestBodyDone || client.input.isEmpty) {
                clientKeepAlive = false  // the connection's last response during a drain (SPEC 10)
            }
            worker.responseHeadWriter.reset()
            ResponseHeadWriter.writeFinal(
                head, from: connection.input.readable, framing: responseFraming, exchange: self,
                closeClient: !clientKeepAlive, into: &worker.responseHeadWriter)
            connection.input.consume(head.headLength)
            // Not flushed yet: the body that is already buffered goes out in the same write.
            client.enqueue(worker.responseHeadWriter.bytes, flush: false)
            // No body, or an empty one (`Content-Length: 0`): the response is complete now.
            if framing.isEmpty {
                responseDone = true
                client.flush()
                finishResponseBody()
            } else if connection.input.isEmpty {
                headHeldForBody = true
                connection.readable = true  // the speculative read (see `headHeldForBody`)
            }
            return true
        }
    }

    private func pumpResponseBody(_ connection: UpstreamConnection) {
        withClient { client in
            var moved = false
            while !responseDone && !connection.input.isEmpty {
                client.output.makeRoom(atLeast: client.output.capacity / 2)
                let room = client.output.writableCount - 32
                if room <= 0 { break }
                let available = connection.input.readable
                let slice = UnsafeRawBufferPointer(rebasing: available[0..<min(available.count, room)])
                let step: BodyStep
                do {
                    step = try responseDecoder.decode(slice)
                } catch {
                    record.upstreamFailed = true
                    perform(machine.upstreamBadResponse("the upstream sent a malformed body"))
                    return
                }
                if let range = step.data {
                    if responseFraming == .chunked { client.output.appendChunkHeader(size: range.count) }
                    client.output.append(UnsafeRawBufferPointer(rebasing: slice[range]))
                    if responseFraming == .chunked { client.output.appendCRLF() }
                    record.bytesOut += range.count
                }
                connection.input.consume(step.consumed)
                moved = moved || step.consumed > 0
                if step.isComplete {
                    if responseFraming == .chunked {
                        var last: [UInt8] = []
                        HTTP1Writer.lastChunk(trailers: forwardableTrailers(step.trailers), into: &last)
                        last.withUnsafeBytes { client.output.append($0) }
                    }
                    responseDone = true
                    break
                }
                if step.consumed == 0 && step.data == nil { break }
            }
            if headHeldForBody {
                if !moved && !responseDone { return }  // the speculative read decides
                headHeldForBody = false
            }
            guard client.flush() else { return }
            if responseDone { finishResponseBody() }
        }
    }

    private func finishResponseBody() {
        if responseDecoderIsCloseDelimited && responseFraming == .chunked {
            var last: [UInt8] = []
            HTTP1Writer.lastChunk(trailers: [], into: &last)
            last.withUnsafeBytes { client.output.append($0) }
            client.flush()
        }
        if requestBodyDone || client.peerClosed || !clientKeepAlive { complete() }
    }

    /// The client can take more response bytes.
    func clientWritable() {
        guard let connection, machine.state == .streamingResponse else { return }
        pumpResponseBody(connection)
        if !machine.isFinished && !responseDone { readResponse() }
    }

    // MARK: Ending

    private func complete() {
        withClient { client in
            let reusable = upstreamReusable && requestBodyDone && !responseDecoderIsCloseDelimited
            guard case .finish(let reuse) = machine.responseComplete(reusable: reusable) else { return }
            client.disarmDeadline()
            if let connection {
                self.connection = nil
                if reuse && !worker.isDraining {
                    worker.pool.put(
                        connection, maxIdle: upstream.maxIdlePerServer, idleTimeoutMs: upstream.idleTimeoutMs)
                } else {
                    connection.close()
                }
            }
            finishRecord(status: record.status, error: nil)
            let closeClient = !clientKeepAlive || responseFraming == .closeDelimited || !requestBodyDone
            client.finishRequest(close: closeClient)
            retire()
        }
    }

    func clientGone() {
        perform(machine.clientGone())
    }

    /// No progress on the client side for idleMs.
    func clientIdleTimeout() {
        switch machine.state {
        case .connecting, .awaitingResponseHead:
            if !requestBodyDone {
                clientSentBadBody(ProxyError(.requestTimeout, "the request body was not received in time"))
            } else {
                perform(machine.deadlineExpired())
            }
        case .streamingResponse:
            abortBoth()
        case .finished:
            break
        }
    }

    /// The request's deadline passed (SPEC section 6).
    func deadlinePassed() {
        perform(machine.deadlineExpired())
    }

    private func perform(_ action: ExchangeStateMachine.Action) {
        switch action {
        case .respondWithError(let error):
            client.disarmDeadline()
            closeUpstream(reset: false)
            finishRecord(status: error.status, error: error)
            client.exchange = nil
            client.phase = .awaitingHead
            let close = !clientKeepAlive || !requestBodyDone
            client.respondWithError(error, request: requestContext, closing: close)
            retire()
        case .abortClient:
            abortBoth()
        case .cancelUpstream:
            client.disarmDeadline()
            closeUpstream(reset: true)
            record.cancelled = true
            finishRecord(status: 499, error: nil)
            client.exchange = nil
            client.close()
            retire()
        case .sendRequest, .forwardResponseHead, .finish, .none:
            break
        }
    }

    private func abortBoth() {
        client.disarmDeadline()
        closeUpstream(reset: true)
        finishRecord(status: record.status, error: nil)
        client.exchange = nil
        client.close()
        retire()
    }

    private func closeUpstream(reset: Bool) {
        guard let connection else { return }
        self.connection = nil
        connection.close(reset: reset)
    }

    private var requestContext: RequestContext {
        RequestContext(
            version: clientVersion, method: requestMethod, keepAlive: clientKeepAlive,
            requestID: record.requestID)
    }

    private func finishRecord(status: Int, error: ProxyError?) {
        guard !recorded else { return }
        recorded = true
        record.status = status
        record.errorKind = error?.kind
        worker.recordExchange(record)
    }
}
