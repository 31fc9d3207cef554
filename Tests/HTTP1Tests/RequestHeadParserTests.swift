import HTTP1
import Testing

/// A request the parser must accept, with the facts it must report.
struct ValidRequest: Sendable, CustomTestStringConvertible {
    var name: String
    var raw: String
    var method: HTTPMethod = .get
    var methodText = "GET"
    var target = "/"
    var form = TargetForm.origin
    var originTarget: String?
    var authority: String?
    var needsSlash = false
    var version = HTTPVersion.http11
    var host: String? = "example.com"
    var framing = BodyFraming.none
    var keepAlive = true
    var close = false
    var upgrade = false
    var expectContinue = false
    var fieldCount: Int?
    var headLength: Int?

    var testDescription: String { name }
}

let browserRequest = """
    GET /static/app.js?v=123 HTTP/1.1\r
    Host: www.example.com\r
    User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\r
    Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r
    Accept-Language: en-US,en;q=0.5\r
    Accept-Encoding: gzip, deflate, br, zstd\r
    Referer: https://www.example.com/index.html\r
    Connection: keep-alive\r
    Cookie: session=abcdef0123456789; theme=dark; consent=yes\r
    Upgrade-Insecure-Requests: 1\r
    Sec-Fetch-Dest: script\r
    Sec-Fetch-Mode: no-cors\r
    Sec-Fetch-Site: same-origin\r
    If-None-Match: "33a64df551425fcc55e4d42a148795d9f25f89d4"\r
    Cache-Control: max-age=0\r
    Priority: u=1\r
    \r

    """

let validRequests: [ValidRequest] = [
    ValidRequest(name: "minimal GET", raw: "GET / HTTP/1.1\r\nHost: example.com\r\n\r\n", fieldCount: 1),
    ValidRequest(
        name: "browser-like request", raw: browserRequest, target: "/static/app.js?v=123",
        host: "www.example.com", fieldCount: 15),
    ValidRequest(
        name: "POST with Content-Length",
        raw: "POST /submit HTTP/1.1\r\nHost: example.com\r\nContent-Length: 5\r\n\r\nhello",
        method: .post, methodText: "POST", target: "/submit", framing: .contentLength(5), headLength: 63),
    ValidRequest(
        name: "Content-Length zero",
        raw: "POST / HTTP/1.1\r\nHost: example.com\r\nContent-Length: 0\r\n\r\n",
        method: .post, methodText: "POST", framing: .contentLength(0)),
    ValidRequest(
        name: "identical Content-Length list",
        raw: "PUT / HTTP/1.1\r\nHost: example.com\r\nContent-Length: 5, 5\r\n\r\n",
        method: .put, methodText: "PUT", framing: .contentLength(5)),
    ValidRequest(
        name: "identical Content-Length lines",
        raw: "PUT / HTTP/1.1\r\nHost: example.com\r\nContent-Length: 7\r\ncontent-length: 007\r\n\r\n",
        method: .put, methodText: "PUT", framing: .contentLength(7)),
    ValidRequest(
        name: "largest Content-Length",
        raw: "PUT / HTTP/1.1\r\nHost: example.com\r\nContent-Length: 9223372036854775807\r\n\r\n",
        method: .put, methodText: "PUT", framing: .contentLength(9_223_372_036_854_775_807)),
    ValidRequest(
        name: "chunked",
        raw: "POST / HTTP/1.1\r\nHost: example.com\r\nTransfer-Encoding: chunked\r\n\r\n",
        method: .post, methodText: "POST", framing: .chunked),
    ValidRequest(
        name: "chunked in any case with OWS",
        raw: "POST / HTTP/1.1\r\nHost: example.com\r\ntransfer-encoding:\t CHUNKED \t\r\n\r\n",
        method: .post, methodText: "POST", framing: .chunked),
    ValidRequest(
        name: "chunked with empty list elements",
        raw: "POST / HTTP/1.1\r\nHost: example.com\r\nTransfer-Encoding: , chunked,\r\n\r\n",
        method: .post, methodText: "POST", framing: .chunked),
    ValidRequest(
        name: "HTTP/1.0 without Host",
        raw: "GET /old HTTP/1.0\r\n\r\n", target: "/old", version: .http10, host: nil, keepAlive: false,
        fieldCount: 0),
    ValidRequest(
        name: "HTTP/1.0 with empty Host",
        raw: "GET / HTTP/1.0\r\nHost:\r\n\r\n", version: .http10, host: nil, keepAlive: false),
    ValidRequest(
        name: "HTTP/1.0 keep-alive",
        raw: "GET / HTTP/1.0\r\nHost: example.com\r\nConnection: Keep-Alive\r\n\r\n",
        version: .http10, keepAlive: true),
    ValidRequest(
        name: "HTTP/1.1 close",
        raw: "GET / HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n", keepAlive: false, close: true
    ),
    ValidRequest(
        name: "Connection list on two lines",
        raw: "GET / HTTP/1.1\r\nHost: example.com\r\nConnection: keep-alive, Upgrade\r\n"
            + "Connection: CLOSE\r\nUpgrade: websocket\r\n\r\n",
        keepAlive: false, close: true, upgrade: true),
    ValidRequest(
        name: "HTTP/1.2 is served as 1.1", raw: "GET / HTTP/1.2\r\nHost: example.com\r\n\r\n"),
    ValidRequest(
        name: "HTTP/1.9 is served as 1.1", raw: "GET / HTTP/1.9\r\nHost: example.com\r\n\r\n"),
    ValidRequest(
        name: "leading empty lines",
        raw: "\r\n\r\nGET / HTTP/1.1\r\nHost: example.com\r\n\r\n", headLength: 41),
    ValidRequest(
        name: "eight leading empty lines, the most tolerated",
        raw: String(repeating: "\r\n", count: 8) + "GET / HTTP/1.1\r\nHost: example.com\r\n\r\n",
        headLength: 53),
    ValidRequest(
        name: "absolute-form wins over Host",
        raw: "GET http://api.example.com:8080/path?q=1 HTTP/1.1\r\nHost: other.example\r\n\r\n",
        target: "http://api.example.com:8080/path?q=1", form: .absolute, originTarget: "/path?q=1",
        authority: "api.example.com:8080", host: "api.example.com:8080"),
    ValidRequest(
        name: "absolute-form https, scheme in upper case",
        raw: "GET HTTPS://Example.COM/a HTTP/1.1\r\nHost: example.com\r\n\r\n",
        target: "HTTPS://Example.COM/a", form: .absolute, originTarget: "/a", authority: "Example.COM",
        host: "Example.COM"),
    ValidRequest(
        name: "absolute-form with empty path",
        raw: "GET http://example.com HTTP/1.1\r\nHost: example.com\r\n\r\n",
        target: "http://example.com", form: .absolute, originTarget: "", authority: "example.com",
        needsSlash: true),
    ValidRequest(
        name: "absolute-form with query and empty path",
        raw: "GET http://example.com?x=1 HTTP/1.1\r\nHost: example.com\r\n\r\n",
        target: "http://example.com?x=1", form: .absolute, originTarget: "?x=1", authority: "example.com",
        needsSlash: true),
    ValidRequest(
        name: "absolute-form IPv6",
        raw: "GET http://[::1]:9000/ HTTP/1.1\r\nHost: [::1]:9000\r\n\r\n",
        target: "http://[::1]:9000/", form: .absolute, originTarget: "/", authority: "[::1]:9000",
        host: "[::1]:9000"),
    ValidRequest(
        name: "OPTIONS asterisk",
        raw: "OPTIONS * HTTP/1.1\r\nHost: example.com\r\n\r\n", method: .options, methodText: "OPTIONS",
        target: "*", form: .asterisk),
    ValidRequest(
        name: "Expect 100-continue",
        raw: "PUT /f HTTP/1.1\r\nHost: example.com\r\nExpect: 100-Continue\r\nContent-Length: 1\r\n\r\n",
        method: .put, methodText: "PUT", target: "/f", framing: .contentLength(1), expectContinue: true),
    ValidRequest(
        name: "obs-text in a value",
        raw: "GET / HTTP/1.1\r\nHost: example.com\r\nX-Name: Jos\u{E9} \u{1F600}\r\n\r\n"),
    ValidRequest(
        name: "empty value and whitespace-only value",
        raw: "GET / HTTP/1.1\r\nHost: example.com\r\nX-Empty:\r\nX-Blank:  \t \r\n\r\n", fieldCount: 3),
    ValidRequest(
        name: "every token character in a name",
        raw: "GET / HTTP/1.1\r\nHost: example.com\r\nX-!#$%&'*+-.^_`|~09az: v\r\n\r\n"),
    ValidRequest(
        name: "Host with port", raw: "GET / HTTP/1.1\r\nHost: example.com:8443\r\n\r\n",
        host: "example.com:8443"),
    ValidRequest(
        name: "IPv6 Host", raw: "GET / HTTP/1.1\r\nHost: [2001:db8::1]:80\r\n\r\n", host: "[2001:db8::1]:80"),
    ValidRequest(
        name: "extension method", raw: "PROPFIND /dav HTTP/1.1\r\nHost: example.com\r\n\r\n",
        method: .other, methodText: "PROPFIND", target: "/dav"),
    ValidRequest(
        name: "methods are case-sensitive", raw: "get / HTTP/1.1\r\nHost: example.com\r\n\r\n",
        method: .other, methodText: "get"),
    ValidRequest(
        name: "DELETE", raw: "DELETE /x HTTP/1.1\r\nHost: example.com\r\n\r\n", method: .delete,
        methodText: "DELETE", target: "/x"),
    ValidRequest(
        name: "PATCH", raw: "PATCH /x HTTP/1.1\r\nHost: example.com\r\n\r\n", method: .patch,
        methodText: "PATCH", target: "/x"),
    ValidRequest(
        name: "HEAD", raw: "HEAD /x HTTP/1.1\r\nHost: example.com\r\n\r\n", method: .head,
        methodText: "HEAD", target: "/x"),
    ValidRequest(
        name: "TRACE", raw: "TRACE /x HTTP/1.1\r\nHost: example.com\r\n\r\n", method: .trace,
        methodText: "TRACE", target: "/x"),
    ValidRequest(
        name: "target with encodings and odd characters",
        raw: "GET /a%2Fb/c;p=1/~u/{x}|y^z?q=%20&r=[1] HTTP/1.1\r\nHost: example.com\r\n\r\n",
        target: "/a%2Fb/c;p=1/~u/{x}|y^z?q=%20&r=[1]"),
    ValidRequest(
        name: "pipelined request after the head",
        raw: "GET /1 HTTP/1.1\r\nHost: example.com\r\n\r\nGET /2 HTTP/1.1\r\nHost: example.com\r\n\r\n",
        target: "/1", headLength: 38),
]

@Suite struct RequestHeadParserTests {
    @Test(arguments: validRequests)
    func acceptsValidRequest(_ c: ValidRequest) throws {
        let message = bytes(c.raw)
        let outcome = feedRequest(message)
        let head = try #require(outcome.head, "got \(outcome)")
        #expect(head.method == c.method)
        #expect(text(head.methodSpan, in: message) == c.methodText)
        #expect(text(head.target, in: message) == c.target)
        #expect(head.targetForm == c.form)
        #expect(text(head.originTarget, in: message) == (c.originTarget ?? c.target))
        #expect(text(head.absoluteAuthority, in: message) == c.authority)
        #expect(head.originTargetNeedsSlash == c.needsSlash)
        #expect(head.version == c.version)
        #expect(text(head.host, in: message) == c.host)
        #expect(head.framing == c.framing)
        #expect(head.isKeepAlive == c.keepAlive)
        #expect(head.connectionClose == c.close)
        #expect(head.connectionUpgrade == c.upgrade)
        #expect(head.expectContinue == c.expectContinue)
        if let count = c.fieldCount { #expect(head.fields.count == count) }
        if let length = c.headLength {
            #expect(head.headLength == length)
        } else {
            #expect(head.headLength == message.count)
        }
        #expect(message[head.headLength - 4..<head.headLength] == bytes("\r\n\r\n")[...])
    }

    @Test(arguments: validRequests)
    func validRequestParsesTheSameUnderEverySplit(_ c: ValidRequest) {
        let message = bytes(c.raw)
        let whole = feedRequest(message)
        for cuts in feedings(of: message.count) {
            #expect(feedRequest(message, cuts: cuts) == whole, "cuts \(cuts.prefix(3))")
        }
    }

    /// Every idle client connection holds a parser (docs/performance.md, "Memory per idle
    /// connection"): its offsets are 32-bit and its small fields packed.
    @Test func staysWithinSixtyFourBytes() {
        #expect(MemoryLayout<RequestHeadParser>.size <= 64)
    }

    @Test func trimsWhitespaceAroundValuesAndKeepsInnerWhitespace() throws {
        let message = bytes("GET / HTTP/1.1\r\nHost: example.com\r\nX-A: \t a\tb  c \t\r\n\r\n")
        let head = try #require(feedRequest(message).head)
        #expect(text(head.fields[1].name, in: message) == "X-A")
        #expect(text(head.fields[1].value, in: message) == "a\tb  c")
        #expect(head.fields[1].known == .other)
        #expect(head.fields[0].known == .host)
        #expect(!head.fields[1].needsUnfolding)
    }

    @Test func recognisesKnownFieldsInAnyCase() throws {
        let message = bytes(
            "GET / HTTP/1.1\r\nHOST: example.com\r\nx-FORWARDED-for: 1.2.3.4\r\nVia: 1.1 a\r\n"
                + "X-Request-Timeout-Ms: 50\r\nTE: trailers\r\nProxy-Authorization: x\r\n\r\n")
        let head = try #require(feedRequest(message).head)
        #expect(
            head.fields.map(\.known) == [
                .host, .xForwardedFor, .via, .xRequestTimeoutMs, .te, .proxyAuthorization,
            ])
    }

    @Test func needsMoreUntilTheBlankLine() {
        let message = bytes("GET / HTTP/1.1\r\nHost: example.com\r\n\r")
        #expect(feedRequest(message) == .needMore)
        #expect(feedRequest([]) == .needMore)
    }

    @Test func parserIsReusableAfterAHead() throws {
        let first = bytes("GET /1 HTTP/1.1\r\nHost: a.example\r\n\r\n")
        let second = bytes("POST /2 HTTP/1.0\r\nContent-Length: 3\r\n\r\n")
        var parser = RequestHeadParser(limits: HeadLimits(maxHeaderBytes: 1024))
        let a = try first.withUnsafeBytes { buffer throws(HTTP1ParseError) in try parser.parse(buffer) }
        let b = try second.withUnsafeBytes { buffer throws(HTTP1ParseError) in try parser.parse(buffer) }
        #expect(a == feedRequest(first).head.map { .complete($0) })
        #expect(b == feedRequest(second).head.map { .complete($0) })
    }

    /// A loop lends one field array to every parser. A head split across reads must keep its
    /// fields while another connection's head is parsed into the same array in between, and
    /// a head already returned must keep its fields while the array is reused.
    @Test func lentFieldStorageSurvivesInterleavedConnections() throws {
        let split = bytes("GET /a HTTP/1.1\r\nHost: a.example\r\nX-One: 1\r\nX-Two: 2\r\n\r\n")
        let whole = bytes("GET /b HTTP/1.1\r\nHost: b.example\r\nAccept: */*\r\n\r\n")
        var storage: [HeaderField] = []
        var parserA = RequestHeadParser(limits: HeadLimits(maxHeaderBytes: 1024))
        var parserB = RequestHeadParser(limits: HeadLimits(maxHeaderBytes: 1024))
        let cut = 40  // inside the X-One field line
        let first = try split.withUnsafeBytes { buffer throws(HTTP1ParseError) in
            try parserA.parse(UnsafeRawBufferPointer(rebasing: buffer[0..<cut]), fieldStorage: &storage)
        }
        #expect(first == .needMore)
        let b = try whole.withUnsafeBytes { buffer throws(HTTP1ParseError) in
            try parserB.parse(buffer, fieldStorage: &storage)
        }
        let a = try split.withUnsafeBytes { buffer throws(HTTP1ParseError) in
            try parserA.parse(buffer, fieldStorage: &storage)
        }
        // A head parsed into the array after `b` was returned: `b` keeps its own fields.
        let again = try whole.withUnsafeBytes { buffer throws(HTTP1ParseError) in
            try parserB.parse(buffer, fieldStorage: &storage)
        }
        #expect(a == feedRequest(split).head.map { .complete($0) })
        #expect(b == feedRequest(whole).head.map { .complete($0) })
        #expect(again == b)
    }

    @Test func parserIsReusableAfterAnError() throws {
        var parser = RequestHeadParser(limits: HeadLimits(maxHeaderBytes: 64))
        let bad = bytes("GET / HTTP/1.1\r\nHost : x\r\n\r\n")
        let huge = bytes("GET /" + String(repeating: "a", count: 100))
        let good = bytes("GET / HTTP/1.1\r\nHost: example.com\r\n\r\n")
        for wrong in [bad, huge] {
            #expect(throws: HTTP1ParseError.self) {
                try wrong.withUnsafeBytes { buffer throws(HTTP1ParseError) in try parser.parse(buffer) }
            }
            let result = try good.withUnsafeBytes { buffer throws(HTTP1ParseError) in try parser.parse(buffer)
            }
            #expect(result == feedRequest(good).head.map { .complete($0) })
        }
    }

    @Test func resetAbandonsAPartialHead() throws {
        var parser = RequestHeadParser(limits: HeadLimits(maxHeaderBytes: 1024))
        let partial = bytes("PUT /x HTTP/1.1\r\nHo")
        let full = bytes("GET / HTTP/1.1\r\nHost: example.com\r\n\r\n")
        _ = try partial.withUnsafeBytes { buffer throws(HTTP1ParseError) in try parser.parse(buffer) }
        parser.reset()
        let result = try full.withUnsafeBytes { buffer throws(HTTP1ParseError) in try parser.parse(buffer) }
        #expect(result == feedRequest(full).head.map { .complete($0) })
    }

    @Test func headExactlyAtTheLimitIsAccepted() {
        let message = bytes("GET / HTTP/1.1\r\nHost: example.com\r\n\r\n")
        #expect(feedRequest(message, limit: message.count).head != nil)
        #expect(feedRequest(message, limit: message.count - 1) == .failed(.headersTooLarge))
    }

    @Test func requestLineOverTheLimitIsURITooLongBeforeItsEnd() {
        let message = bytes("GET /" + String(repeating: "a", count: 100))
        #expect(feedRequest(message, limit: 64) == .failed(.uriTooLong))
        for cuts in feedings(of: message.count) {
            #expect(feedRequest(message, cuts: cuts, limit: 64) == .failed(.uriTooLong))
        }
    }

    @Test func manyFieldsOverTheLimitAreHeadersTooLarge() {
        var raw = "GET / HTTP/1.1\r\nHost: example.com\r\n"
        for i in 0..<100 { raw += "X-Field-\(i): value\r\n" }
        let message = bytes(raw + "\r\n")
        #expect(feedRequest(message, limit: 512) == .failed(.headersTooLarge))
        #expect(feedRequest(Array(message[0..<600]), limit: 512) == .failed(.headersTooLarge))
        #expect(feedRequest(message, limit: 4096).head?.fields.count == 101)
    }

    @Test func byteByByteFeedingOfALargeHeadFinishes() {
        var raw = "GET / HTTP/1.1\r\nHost: example.com\r\nX-Big: "
        raw += String(repeating: "v", count: 60_000) + "\r\n\r\n"
        let message = bytes(raw)
        let head = feedRequest(message, cuts: Array(0...message.count), limit: 65536).head
        #expect(head?.fields[1].value.count == 60_000)
    }
}
