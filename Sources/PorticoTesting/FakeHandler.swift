import Synchronization

/// How a `FakeUpstream` answers each request, plus a set of ready-made behaviours.
///
/// The closure runs on the connection's own thread once the request (body included) has been
/// read and recorded. It may write anything through the writer, pause, wait for a latch,
/// close or reset. Throwing closes the connection. After it returns the connection reads the
/// next request unless the writer closed it, `closeAfterResponse()` was called, or the request
/// said `Connection: close`.
package struct FakeHandler: Sendable {
    /// The behaviour itself.
    package let respond: @Sendable (FakeRequest, FakeConnectionWriter) throws -> Void

    /// Wraps a closure as a handler.
    package init(_ respond: @escaping @Sendable (FakeRequest, FakeConnectionWriter) throws -> Void) {
        self.respond = respond
    }

    /// 200 with a JSON body describing the request, and `X-Fake-Upstream: <name>`.
    ///
    /// The body is `{"upstream":..,"method":..,"target":..,"connection":N,"bodyBytes":N,
    /// "headers":{lowercased name: values joined by ", "}}`.
    package static let echo = FakeHandler { request, writer in
        try writer.writeResponse(
            status: 200,
            headers: [("Content-Type", "application/json"), ("X-Fake-Upstream", request.upstreamName)],
            body: echoBody(request))
    }

    /// A response with `status`, a Content-Length framed `body` and extra `headers`.
    package static func status(_ status: Int, body: String = "", headers: [(String, String)] = [])
        -> FakeHandler
    {
        FakeHandler { _, writer in
            try writer.writeResponse(status: status, headers: headers, body: body)
        }
    }

    /// Waits `delay` before doing anything (so before the head), then behaves like `then`.
    package static func delay(_ delay: Duration, then: FakeHandler = .echo) -> FakeHandler {
        FakeHandler { request, writer in
            try writer.pause(delay)
            try then.respond(request, writer)
        }
    }

    /// Waits until `latch` opens (at most `timeout`), then behaves like `then`.
    package static func waitFor(
        _ latch: TestLatch, timeout: Duration = .seconds(10), then: FakeHandler = .echo
    )
        -> FakeHandler
    {
        FakeHandler { request, writer in
            try writer.wait(for: latch, timeout: timeout)
            try then.respond(request, writer)
        }
    }

    /// 200 without Content-Length or Transfer-Encoding; the body ends when the connection closes.
    package static func closeDelimited(_ body: String, status: Int = 200) -> FakeHandler {
        FakeHandler { _, writer in
            try writer.writeHead(status: status, headers: [("Content-Type", "text/plain")])
            try writer.write(body)
            writer.close()
        }
    }

    /// 200 with a chunked body of `chunks` and the given `trailers`.
    package static func chunked(_ chunks: [String], trailers: [(String, String)] = []) -> FakeHandler {
        FakeHandler { _, writer in
            try writer.writeChunked(status: 200, chunks: chunks, trailers: trailers)
        }
    }

    /// Resets the connection (RST) without sending a byte.
    package static let reset = FakeHandler { _, writer in writer.reset() }

    /// Sends a head promising `bodyBytes` bytes, then `sentBytes` of them, then resets.
    package static func resetMidBody(bodyBytes: Int = 1000, sentBytes: Int = 100) -> FakeHandler {
        FakeHandler { _, writer in
            try writer.writeHead(status: 200, headers: [("Content-Length", "\(bodyBytes)")])
            try writer.write([UInt8](repeating: UInt8(ascii: "x"), count: sentBytes))
            writer.reset()
        }
    }

    /// Sends part of a status line and headers, then closes in an orderly way (FIN).
    package static let partialHeadThenClose = FakeHandler { _, writer in
        try writer.write("HTTP/1.1 200 OK\r\nContent-Type: text/pl")
        writer.close()
    }

    /// Sends bytes that are not an HTTP/1.1 response, then closes.
    package static let malformed = FakeHandler { _, writer in
        try writer.write("HTTP/1.1 abc Nonsense\r\nthis is not a header\r\n\r\n")
        writer.close()
    }

    /// Sends each interim status (e.g. 100, 103) before behaving like `then`.
    package static func interim(_ statuses: [Int], then: FakeHandler = .echo) -> FakeHandler {
        FakeHandler { request, writer in
            for status in statuses {
                let headers: [(String, String)] = status == 103 ? [("Link", "</style.css>; rel=preload")] : []
                try writer.writeInterim(status: status, headers: headers)
            }
            try then.respond(request, writer)
        }
    }

    /// Streams `totalBytes` of `x` with Content-Length, `chunkBytes` at a time, pausing
    /// `interval` between pieces.
    package static func slowBody(totalBytes: Int, chunkBytes: Int = 16384, interval: Duration) -> FakeHandler
    {
        FakeHandler { _, writer in
            try writer.writeHead(status: 200, headers: [("Content-Length", "\(totalBytes)")])
            let piece = [UInt8](repeating: UInt8(ascii: "x"), count: max(1, min(chunkBytes, totalBytes)))
            var remaining = totalBytes
            while remaining > 0 {
                let size = min(remaining, piece.count)
                try writer.write(size == piece.count ? piece : Array(piece[0..<size]))
                remaining -= size
                if remaining > 0 { try writer.pause(interval) }
            }
        }
    }

    /// The n-th request received (counted across connections) is handled by `handlers[n]`;
    /// the last handler answers every request after that, e.g. `[.status(503), .echo]`.
    package static func sequence(_ handlers: [FakeHandler]) -> FakeHandler {
        precondition(!handlers.isEmpty, "FakeHandler.sequence needs at least one handler")
        let counter = Counter()
        return FakeHandler { request, writer in
            let index = counter.next()
            try handlers[min(index, handlers.count - 1)].respond(request, writer)
        }
    }

    private final class Counter: Sendable {
        private let value = Mutex(0)
        func next() -> Int {
            value.withLock { current in
                defer { current += 1 }
                return current
            }
        }
    }

    private static func echoBody(_ request: FakeRequest) -> String {
        var grouped: [(String, [String])] = []
        for (name, value) in request.headers {
            let key = HeaderList.lowercased(name)
            if let index = grouped.firstIndex(where: { $0.0 == key }) {
                grouped[index].1.append(value)
            } else {
                grouped.append((key, [value]))
            }
        }
        let headers = grouped.map { "\(jsonQuoted($0.0)):\(jsonQuoted($0.1.joined(separator: ", ")))" }
        return "{\"upstream\":\(jsonQuoted(request.upstreamName)),\"method\":\(jsonQuoted(request.method)),"
            + "\"target\":\(jsonQuoted(request.target)),\"connection\":\(request.connectionIndex),"
            + "\"bodyBytes\":\(request.bodyByteCount),\"headers\":{\(headers.joined(separator: ","))}}"
    }

    private static func jsonQuoted(_ text: String) -> String {
        var quoted = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": quoted += "\\\""
            case "\\": quoted += "\\\\"
            case "\n": quoted += "\\n"
            case "\r": quoted += "\\r"
            case "\t": quoted += "\\t"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    quoted += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    quoted.unicodeScalars.append(scalar)
                }
            }
        }
        return quoted + "\""
    }
}
