import Gateway
import HTTP1
import Reactor

/// One admin client connection: small requests, answered in order, keep-alive.
final class AdminConnection: ListenerConnection {
    let gateway: GatewayServer
    private var input = ByteBuffer(capacity: 32 * 1024)
    private var parser = RequestHeadParser(limits: HeadLimits(maxHeaderBytes: 16 * 1024))
    /// The request being answered asynchronously (stats, reload); input waits meanwhile.
    private var busy = false
    private var pendingBody: (head: RequestHead, decoder: BodyDecoder)?
    private var current: AdminRequest?

    init(fd: Int32, loop: EventLoop, gateway: GatewayServer) {
        self.gateway = gateway
        super.init(fd: fd, loop: loop)
    }

    override func handleIO(_ events: IOEvents) {
        if events.contains(.writable) { writable = true }
        guard flush() else { return }
        process()
    }

    private func process() {
        while isOpen && !busy && output.isEmpty {
            if consumeRequest() { continue }
            switch input.fill(from: fd) {
            case .progressed: continue
            case .wouldBlock: return
            case .bufferFull:
                respond(.error(431, "headers_too_large", "the request is too large"), close: true)
                return
            case .endOfStream, .failed:
                close()
                return
            }
        }
    }

    /// Parses and starts answering one request from the input; true when it consumed one.
    private func consumeRequest() -> Bool {
        if var pending = pendingBody {
            // Admin requests carry no meaningful body; read and drop it to keep framing.
            guard let step = try? pending.decoder.decode(input.readable) else {
                respond(.error(400, "bad_request", "malformed request body"), close: true)
                return false
            }
            input.consume(step.consumed)
            pendingBody = pending
            if step.isComplete {
                pendingBody = nil
                if let request = current { dispatch(request) }
                return true
            }
            return step.consumed > 0
        }
        guard !input.isEmpty else { return false }
        let result: HeadParseResult<RequestHead>
        do {
            result = try parser.parse(input.readable)
        } catch {
            respond(.error(error.status, "bad_request", error.reason), close: true)
            return false
        }
        guard case .complete(let head) = result else { return false }
        let request = AdminRequest(head: head, bytes: input.readable)
        input.consume(head.headLength)
        current = request
        if !head.framing.isEmpty {
            pendingBody = (head, BodyDecoder(framing: head.framing))
            return true
        }
        dispatch(request)
        return true
    }

    private func dispatch(_ request: AdminRequest) {
        let routes = AdminRoutes(gateway: gateway)
        switch routes.handle(request) {
        case .now(let response):
            respond(response, close: !request.keepAlive)
        case .later(let start):
            busy = true
            let bound = LoopBound(self, loop: loop)
            start { response in
                bound.loop.execute {
                    let connection = bound.value
                    connection.busy = false
                    connection.respond(response, close: !request.keepAlive)
                    connection.process()
                }
            }
        }
    }

    private func respond(_ response: AdminResponse, close: Bool) {
        var out: [UInt8] = []
        HTTP1Writer.statusLine(status: response.status, into: &out)
        HTTP1Writer.field(name: "Content-Type", value: response.contentType, into: &out)
        HTTP1Writer.field(name: "Content-Length".utf8, decimal: UInt64(response.body.count), into: &out)
        HTTP1Writer.field(name: "Cache-Control", value: "no-store", into: &out)
        for (name, value) in response.headers { HTTP1Writer.field(name: name, value: value, into: &out) }
        if close { HTTP1Writer.field(name: "Connection", value: "close", into: &out) }
        HTTP1Writer.endOfHead(into: &out)
        if current?.method != .head { out.append(contentsOf: response.body) }
        output.append(contentsOf: out)
        closeAfterFlush = closeAfterFlush || close
        current = nil
        _ = flush()
    }
}

/// The parts of an admin request the routes look at, copied out of the input buffer.
struct AdminRequest: Sendable {
    let method: HTTPMethod
    let path: String
    let query: String
    let authorization: String?
    let keepAlive: Bool

    init(head: RequestHead, bytes: UnsafeRawBufferPointer) {
        method = head.method
        let target = head.originTarget.bytes(in: bytes)
        let pathEnd = RequestTarget.splitQuery(target)
        path = String(decoding: target[0..<pathEnd], as: UTF8.self)
        query = pathEnd < target.count ? String(decoding: target[(pathEnd + 1)...], as: UTF8.self) : ""
        authorization = head.fields.first { field in
            ASCII.equalsIgnoringCase(field.name.bytes(in: bytes), Array("authorization".utf8))
        }.map { String(decoding: $0.value.bytes(in: bytes), as: UTF8.self) }
        keepAlive = head.isKeepAlive
    }

    /// The query's `name=value` pairs, percent-decoded (`+` is a space), in order.
    var queryItems: [(String, String)] {
        query.split(separator: "&", omittingEmptySubsequences: true).map { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = Self.percentDecoded(String(parts[0]))
            let value = parts.count > 1 ? Self.percentDecoded(String(parts[1])) : ""
            return (name, value)
        }
    }

    static func percentDecoded(_ text: String) -> String {
        var out: [UInt8] = []
        let bytes = Array(text.utf8)
        var i = 0
        while i < bytes.count {
            let byte = bytes[i]
            if byte == UInt8(ascii: "%"), i + 2 < bytes.count, let high = hex(bytes[i + 1]),
                let low = hex(bytes[i + 2])
            {
                out.append(high << 4 | low)
                i += 3
            } else {
                out.append(byte == UInt8(ascii: "+") ? 0x20 : byte)
                i += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static func hex(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
