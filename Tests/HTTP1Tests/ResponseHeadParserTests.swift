import HTTP1
import Testing

/// A response the parser must accept.
struct ValidResponse: Sendable, CustomTestStringConvertible {
    var name: String
    var raw: String
    var status = 200
    var reason = "OK"
    var version = HTTPVersion.http11
    var contentLength: UInt64?
    var isChunked = false
    var keepAlive = true
    var framingForGet = BodyFraming.untilClose

    var testDescription: String { name }
}

let validResponses: [ValidResponse] = [
    ValidResponse(
        name: "Content-Length", raw: "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", contentLength: 5,
        framingForGet: .contentLength(5)),
    ValidResponse(
        name: "chunked", raw: "HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\n\r\n", isChunked: true,
        framingForGet: .chunked),
    ValidResponse(name: "close-delimited", raw: "HTTP/1.1 200 OK\r\nServer: x\r\n\r\n"),
    ValidResponse(
        name: "no reason, no space", raw: "HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n", reason: "",
        contentLength: 0, framingForGet: .contentLength(0)),
    ValidResponse(
        name: "empty reason", raw: "HTTP/1.1 404 \r\nContent-Length: 0\r\n\r\n", status: 404,
        reason: "", contentLength: 0, framingForGet: .contentLength(0)),
    ValidResponse(
        name: "reason with spaces and obs-text", raw: "HTTP/1.1 503 Service \u{E9}\tUnavailable\r\n\r\n",
        status: 503, reason: "Service \u{E9}\tUnavailable"),
    ValidResponse(
        name: "no content", raw: "HTTP/1.1 204 No Content\r\n\r\n", status: 204, reason: "No Content",
        framingForGet: .none),
    ValidResponse(
        name: "not modified ignores Content-Length",
        raw: "HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n", status: 304, reason: "Not Modified",
        contentLength: 10, framingForGet: .none),
    ValidResponse(
        name: "early hints", raw: "HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n",
        status: 103,
        reason: "Early Hints", framingForGet: .none),
    ValidResponse(
        name: "HTTP/1.0 without keep-alive", raw: "HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\n",
        version: .http10, contentLength: 1, keepAlive: false, framingForGet: .contentLength(1)),
    ValidResponse(
        name: "HTTP/1.0 keep-alive",
        raw: "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 1\r\n\r\n",
        version: .http10, contentLength: 1, framingForGet: .contentLength(1)),
    ValidResponse(
        name: "HTTP/1.1 close", raw: "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n", keepAlive: false),
    ValidResponse(name: "HTTP/1.4 as 1.1", raw: "HTTP/1.4 200 OK\r\n\r\n"),
    ValidResponse(
        name: "identical Content-Length lines",
        raw: "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 3, 3\r\n\r\n", contentLength: 3,
        framingForGet: .contentLength(3)),
    ValidResponse(
        name: "space before colon is repaired",
        raw: "HTTP/1.1 200 OK\r\nContent-Length \t : 2\r\n\r\n", contentLength: 2,
        framingForGet: .contentLength(2)),
    ValidResponse(name: "obs-fold is repaired", raw: "HTTP/1.1 200 OK\r\nX-Long: a\r\n  b\r\n\tc\r\n\r\n"),
]

/// A response the parser must refuse (the gateway answers 502).
struct InvalidResponse: Sendable, CustomTestStringConvertible {
    var name: String
    var raw: String
    var error: HTTP1ParseError?
    var limit = 16384

    init(_ name: String, _ raw: String, _ error: HTTP1ParseError? = nil, limit: Int = 16384) {
        self.name = name
        self.raw = raw
        self.error = error
        self.limit = limit
    }

    var testDescription: String { name }
}

let invalidResponses: [InvalidResponse] = [
    InvalidResponse("two-digit status", "HTTP/1.1 20 OK\r\n\r\n"),
    InvalidResponse("four-digit status", "HTTP/1.1 2000 OK\r\n\r\n"),
    InvalidResponse("status below 100", "HTTP/1.1 099 X\r\n\r\n"),
    InvalidResponse("status above 599", "HTTP/1.1 600 X\r\n\r\n"),
    InvalidResponse("letters in status", "HTTP/1.1 2x0 OK\r\n\r\n"),
    InvalidResponse("HTTP/2.0", "HTTP/2.0 200 OK\r\n\r\n"),
    InvalidResponse("HTTP/0.9", "HTTP/0.9 200 OK\r\n\r\n"),
    InvalidResponse("lowercase protocol", "http/1.1 200 OK\r\n\r\n"),
    InvalidResponse("ICY", "ICY 200 OK\r\n\r\n"),
    InvalidResponse("two spaces before status", "HTTP/1.1  200 OK\r\n\r\n"),
    InvalidResponse("tab before reason", "HTTP/1.1 200\tOK\r\n\r\n"),
    InvalidResponse("bare LF after status line", "HTTP/1.1 200 OK\nContent-Length: 0\r\n\r\n"),
    InvalidResponse("bare LF after field", "HTTP/1.1 200 OK\r\nContent-Length: 0\n\r\n"),
    InvalidResponse("bare CR in reason", "HTTP/1.1 200 O\rK\r\n\r\n"),
    InvalidResponse("control character in reason", "HTTP/1.1 200 O\u{1}K\r\n\r\n"),
    InvalidResponse("control character in value", "HTTP/1.1 200 OK\r\nX: a\u{0}\r\n\r\n"),
    InvalidResponse("whitespace before first field", "HTTP/1.1 200 OK\r\n X: a\r\n\r\n"),
    InvalidResponse("separator in name", "HTTP/1.1 200 OK\r\nX[1]: a\r\n\r\n"),
    InvalidResponse("space inside name", "HTTP/1.1 200 OK\r\nX Y: a\r\n\r\n"),
    InvalidResponse("gzip coding", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n"),
    InvalidResponse("gzip then chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"),
    InvalidResponse(
        "chunked twice", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n"
    ),
    InvalidResponse("empty TE", "HTTP/1.1 200 OK\r\nTransfer-Encoding:\r\n\r\n"),
    InvalidResponse(
        "CL and TE", "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"),
    InvalidResponse("TE in HTTP/1.0", "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"),
    InvalidResponse("differing CL", "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n"),
    InvalidResponse("CL not decimal", "HTTP/1.1 200 OK\r\nContent-Length: 0x10\r\n\r\n"),
    InvalidResponse("leading empty line", "\r\nHTTP/1.1 200 OK\r\n\r\n"),
    InvalidResponse(
        "head over the limit", "HTTP/1.1 200 OK\r\nX: " + String(repeating: "y", count: 100),
        .headersTooLarge,
        limit: 64),
    InvalidResponse(
        "status line over the limit", "HTTP/1.1 200 " + String(repeating: "y", count: 100),
        .headersTooLarge, limit: 64),
]

@Suite struct ResponseHeadParserTests {
    @Test(arguments: validResponses)
    func acceptsValidResponse(_ c: ValidResponse) throws {
        let message = bytes(c.raw)
        let head = try #require(feedResponse(message).head)
        #expect(head.status == c.status)
        #expect(text(head.reason, in: message) == c.reason)
        #expect(head.version == c.version)
        #expect(head.contentLength == c.contentLength)
        #expect(head.isChunked == c.isChunked)
        #expect(head.isKeepAlive == c.keepAlive)
        #expect(head.framing(requestMethod: .get) == c.framingForGet)
        #expect(head.framing(requestMethod: .head) == .none)
        #expect(head.isInformational == (c.status < 200))
        #expect(message[head.headLength - 4..<head.headLength] == bytes("\r\n\r\n")[...])
    }

    @Test(arguments: validResponses)
    func validResponseParsesTheSameUnderEverySplit(_ c: ValidResponse) {
        let message = bytes(c.raw)
        let whole = feedResponse(message)
        for cuts in feedings(of: message.count) {
            #expect(feedResponse(message, cuts: cuts) == whole)
        }
    }

    @Test(arguments: invalidResponses)
    func refusesInvalidResponse(_ c: InvalidResponse) throws {
        let message = bytes(c.raw)
        let whole = feedResponse(message, limit: c.limit)
        let error = try #require(whole.error, "accepted: \(whole)")
        #expect(error.status == (c.error?.status ?? 502))
        if let expected = c.error { #expect(error == expected) }
        if case .badResponse = error {} else { #expect(error == .headersTooLarge) }
        for cuts in feedings(of: message.count) {
            #expect(feedResponse(message, cuts: cuts, limit: c.limit) == whole)
        }
    }

    @Test func spaceBeforeColonIsNotPartOfTheName() throws {
        let message = bytes("HTTP/1.1 200 OK\r\nContent-Length \t : 2\r\nX-A : b\r\n\r\n")
        let head = try #require(feedResponse(message).head)
        #expect(text(head.fields[0].name, in: message) == "Content-Length")
        #expect(head.fields[0].known == .contentLength)
        #expect(text(head.fields[1].name, in: message) == "X-A")
        #expect(text(head.fields[1].value, in: message) == "b")
    }

    @Test func foldedValueIsMarkedAndUnfoldsToSingleSpaces() throws {
        let message = bytes("HTTP/1.1 200 OK\r\nX-Long: a \r\n  b\r\n\tc\r\nY: d\r\n\r\n")
        let head = try #require(feedResponse(message).head)
        #expect(head.fields.count == 2)
        let folded = head.fields[0]
        #expect(folded.needsUnfolding)
        #expect(text(folded.value, in: message) == "a \r\n  b\r\n\tc")
        #expect(!head.fields[1].needsUnfolding)
        var out: [UInt8] = []
        message.withUnsafeBytes { buffer in
            HTTP1Writer.unfoldedField(
                name: folded.name.bytes(in: buffer), value: folded.value.bytes(in: buffer), into: &out)
        }
        #expect(String(decoding: out, as: UTF8.self) == "X-Long: a b c\r\n")
    }

    @Test func foldOntoAnEmptyValueNeedsNoUnfolding() throws {
        let message = bytes("HTTP/1.1 200 OK\r\nX-Long:\r\n   value\r\n \r\n\r\n")
        let head = try #require(feedResponse(message).head)
        #expect(text(head.fields[0].value, in: message) == "value")
        #expect(!head.fields[0].needsUnfolding)
    }

    @Test func foldedConnectionTokensAreRead() throws {
        let message = bytes("HTTP/1.1 200 OK\r\nConnection: keep-alive,\r\n close\r\n\r\n")
        let head = try #require(feedResponse(message).head)
        #expect(head.connectionClose && head.connectionKeepAlive)
    }

    @Test func informationalHeadIsCompleteOnItsOwn() throws {
        let message = bytes("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
        let first = try #require(feedResponse(message).head)
        #expect(first.isInformational && first.headLength == 25)
        let second = try #require(feedResponse(Array(message[first.headLength...])).head)
        #expect(second.status == 200)
    }
}
