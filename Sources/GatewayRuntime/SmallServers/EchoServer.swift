import Gateway
import HTTP1
import Reactor

/// `portico echo`: a tiny keep-alive upstream that answers every request with 200 and a
/// JSON description of it (README.md, "Command line"), for demos, tests and benchmarks.
package final class EchoServer: Sendable {
    private let listener: ListenerLoop
    /// The bound address (its port is real even when asked for port 0).
    package var address: SocketAddress { listener.address }

    package init(address: ConfigAddress, name: String) throws(SystemError) {
        listener = try ListenerLoop(
            address: SocketAddress(address),
            makeAcceptor: { fd, loop in EchoAcceptor(fd: fd, loop: loop, name: name) },
            registrationFailed: { _ in })
    }

    /// Closes the listener, stops the loop and waits for its thread.
    package func stop() { listener.stop() }
}

private final class EchoAcceptor: IOHandler {
    let fd: Int32
    let loop: EventLoop
    let name: String
    private let acceptPause: AcceptPause

    init(fd: Int32, loop: EventLoop, name: String) {
        self.fd = fd
        self.loop = loop
        self.name = name
        acceptPause = AcceptPause(loop: loop, fd: fd)
    }

    func handleIO(_ events: IOEvents) {
        while let client = acceptPause.accept(for: self) {
            let connection = EchoConnection(fd: client, loop: loop, name: name)
            do {
                try loop.register(client, handler: connection)
                connection.retainSelf = connection
            } catch {
                closeDescriptor(client)
            }
        }
    }
}

private final class EchoConnection: ListenerConnection {
    let name: String
    var input = ByteBuffer(capacity: 64 * 1024)
    var parser = RequestHeadParser(limits: HeadLimits(maxHeaderBytes: 32 * 1024))
    var pending: (head: RequestHead, description: [UInt8], decoder: BodyDecoder, bodyBytes: Int)?

    init(fd: Int32, loop: EventLoop, name: String) {
        self.name = name
        super.init(fd: fd, loop: loop)
    }

    override func handleIO(_ events: IOEvents) {
        if events.contains(.writable) { writable = true }
        if !flush() { return }
        while true {
            processInput()
            // Answering may have closed the connection (Connection: close), or the client
            // must read before more input is taken.
            guard isOpen, output.isEmpty else { return }
            switch input.fill(from: fd) {
            case .progressed: continue
            case .wouldBlock, .bufferFull: return
            case .endOfStream, .failed:
                close()
                return
            }
        }
    }

    private func processInput() {
        while isOpen && !input.isEmpty && output.isEmpty {
            if var request = pending {
                let step: BodyStep
                do {
                    step = try request.decoder.decode(input.readable)
                } catch {
                    close()
                    return
                }
                if let range = step.data { request.bodyBytes += range.count }
                input.consume(step.consumed)
                pending = request
                if step.isComplete { respond() } else if step.consumed == 0 { return }
                continue
            }
            let result: HeadParseResult<RequestHead>
            do {
                result = try parser.parse(input.readable)
            } catch {
                output = Array(
                    "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".utf8)
                _ = flush()
                close()
                return
            }
            guard case .complete(let head) = result else { return }
            let description = describe(head, input.readable)
            input.consume(head.headLength)
            parser.reset()
            pending = (head, description, BodyDecoder(framing: head.framing), 0)
            // `Content-Length: 0` is complete with the head, like no body at all.
            if head.framing.isEmpty { respond() }
        }
        if input.isEmpty && pending == nil { input.releaseIfEmpty() }
    }

    private func describe(_ head: RequestHead, _ bytes: UnsafeRawBufferPointer) -> [UInt8] {
        var out: [UInt8] = []
        let target = head.originTarget.bytes(in: bytes)
        let pathEnd = RequestTarget.splitQuery(target)
        out.append(contentsOf: #"{"name":"#.utf8)
        JSONText.appendString(name.utf8, to: &out)
        out.append(contentsOf: #","method":"#.utf8)
        JSONText.appendString(head.methodSpan.bytes(in: bytes), to: &out)
        out.append(contentsOf: #","path":"#.utf8)
        JSONText.appendString(UnsafeRawBufferPointer(rebasing: target[0..<pathEnd]), to: &out)
        out.append(contentsOf: #","query":"#.utf8)
        JSONText.appendString(
            UnsafeRawBufferPointer(rebasing: target[min(pathEnd + 1, target.count)...]), to: &out)
        out.append(contentsOf: #","headers":{"#.utf8)
        for (index, field) in head.fields.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            JSONText.appendString(field.name.bytes(in: bytes), to: &out)
            out.append(UInt8(ascii: ":"))
            JSONText.appendString(field.value.bytes(in: bytes), to: &out)
        }
        out.append(contentsOf: "},".utf8)
        return out
    }

    private func respond() {
        guard let request = pending else { return }
        pending = nil
        var body = request.description
        body.append(contentsOf: #""bodyBytes":"#.utf8)
        body.append(contentsOf: String(request.bodyBytes).utf8)
        body.append(contentsOf: "}".utf8)
        var head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: \(body.count)\r\n"
        if !request.head.isKeepAlive { head += "Connection: close\r\n" }
        head += "\r\n"
        output.append(contentsOf: head.utf8)
        if request.head.method != .head { output.append(contentsOf: body) }
        if !request.head.isKeepAlive { closeAfterFlush = true }
        _ = flush()
    }
}
