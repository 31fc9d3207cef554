import HTTP1
import Testing

/// A request the parser must refuse, with the status the gateway answers.
struct InvalidRequest: Sendable, CustomTestStringConvertible {
    var name: String
    var raw: String
    var status: Int
    var limit = 16384

    init(_ name: String, _ raw: String, _ status: Int, limit: Int = 16384) {
        self.name = name
        self.raw = raw
        self.status = status
        self.limit = limit
    }

    var testDescription: String { name }
}

private let host = "Host: example.com\r\n"

let invalidRequests: [InvalidRequest] = [
    // Line endings (README.md, "Strict parsing": only CRLF).
    InvalidRequest("bare LF after request line", "GET / HTTP/1.1\n\(host)\r\n", 400),
    InvalidRequest("bare LF after field", "GET / HTTP/1.1\r\nHost: example.com\n\r\n", 400),
    InvalidRequest("bare LF ending the head", "GET / HTTP/1.1\r\n\(host)\n", 400),
    InvalidRequest("bare LF as first byte", "\nGET / HTTP/1.1\r\n\(host)\r\n", 400),
    InvalidRequest("bare CR after request line", "GET / HTTP/1.1\r\(host)\r\n", 400),
    InvalidRequest("bare CR inside a value", "GET / HTTP/1.1\r\nHost: example.com\rX: y\r\n\r\n", 400),
    InvalidRequest("bare CR ending the head", "GET / HTTP/1.1\r\n\(host)\rX", 400),
    InvalidRequest("bare CR in leading empty line", "\r\rGET / HTTP/1.1\r\n\(host)\r\n", 400),
    InvalidRequest(
        "too many leading empty lines", String(repeating: "\r\n", count: 9) + "GET / HTTP/1.1\r\n\(host)\r\n",
        400),
    // Field syntax.
    InvalidRequest("obs-fold", "GET / HTTP/1.1\r\n\(host)X: a\r\n b\r\n\r\n", 400),
    InvalidRequest("obs-fold with tab", "GET / HTTP/1.1\r\n\(host)X: a\r\n\tb\r\n\r\n", 400),
    InvalidRequest("whitespace before first field", "GET / HTTP/1.1\r\n \(host)\r\n", 400),
    InvalidRequest("space before colon", "GET / HTTP/1.1\r\nHost : example.com\r\n\r\n", 400),
    InvalidRequest("tab before colon", "GET / HTTP/1.1\r\n\(host)X\t: y\r\n\r\n", 400),
    InvalidRequest("empty field name", "GET / HTTP/1.1\r\n\(host): y\r\n\r\n", 400),
    InvalidRequest("separator in field name", "GET / HTTP/1.1\r\n\(host)X(y): z\r\n\r\n", 400),
    InvalidRequest("at sign in field name", "GET / HTTP/1.1\r\n\(host)X@Y: z\r\n\r\n", 400),
    InvalidRequest("non-ASCII in field name", "GET / HTTP/1.1\r\n\(host)X-\u{E9}: z\r\n\r\n", 400),
    InvalidRequest("field line without colon", "GET / HTTP/1.1\r\n\(host)Xyz\r\n\r\n", 400),
    InvalidRequest("NUL in value", "GET / HTTP/1.1\r\n\(host)X: a\u{0}b\r\n\r\n", 400),
    InvalidRequest("control character in value", "GET / HTTP/1.1\r\n\(host)X: a\u{1}b\r\n\r\n", 400),
    InvalidRequest("escape in value", "GET / HTTP/1.1\r\n\(host)X: \u{1B}[31m\r\n\r\n", 400),
    InvalidRequest("DEL in value", "GET / HTTP/1.1\r\n\(host)X: a\u{7F}\r\n\r\n", 400),
    InvalidRequest("vertical tab in value", "GET / HTTP/1.1\r\n\(host)X: \u{B}a\r\n\r\n", 400),
    // Content-Length.
    InvalidRequest("CL with plus sign", "POST / HTTP/1.1\r\n\(host)Content-Length: +5\r\n\r\n", 400),
    InvalidRequest("CL negative", "POST / HTTP/1.1\r\n\(host)Content-Length: -1\r\n\r\n", 400),
    InvalidRequest("CL in hex", "POST / HTTP/1.1\r\n\(host)Content-Length: 0x5\r\n\r\n", 400),
    InvalidRequest("CL with inner space", "POST / HTTP/1.1\r\n\(host)Content-Length: 1 2\r\n\r\n", 400),
    InvalidRequest("CL empty", "POST / HTTP/1.1\r\n\(host)Content-Length:\r\n\r\n", 400),
    InvalidRequest("CL with letters", "POST / HTTP/1.1\r\n\(host)Content-Length: 5a\r\n\r\n", 400),
    InvalidRequest("CL decimal point", "POST / HTTP/1.1\r\n\(host)Content-Length: 5.0\r\n\r\n", 400),
    InvalidRequest(
        "CL over Int64", "POST / HTTP/1.1\r\n\(host)Content-Length: 9223372036854775808\r\n\r\n", 400),
    InvalidRequest(
        "CL overflowing UInt64", "POST / HTTP/1.1\r\n\(host)Content-Length: 99999999999999999999999\r\n\r\n",
        400),
    InvalidRequest(
        "CL list with differing values", "POST / HTTP/1.1\r\n\(host)Content-Length: 5, 6\r\n\r\n", 400),
    InvalidRequest("CL list with empty element", "POST / HTTP/1.1\r\n\(host)Content-Length: 5,\r\n\r\n", 400),
    InvalidRequest(
        "CL lines that differ", "POST / HTTP/1.1\r\n\(host)Content-Length: 5\r\nContent-Length: 6\r\n\r\n",
        400),
    // Transfer-Encoding.
    InvalidRequest(
        "CL and TE",
        "POST / HTTP/1.1\r\n\(host)Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", 400),
    InvalidRequest(
        "TE and CL",
        "POST / HTTP/1.1\r\n\(host)Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n", 400),
    InvalidRequest("TE in HTTP/1.0", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400),
    InvalidRequest(
        "TE gzip then chunked", "POST / HTTP/1.1\r\n\(host)Transfer-Encoding: gzip, chunked\r\n\r\n", 501),
    InvalidRequest(
        "TE gzip then chunked on two lines",
        "POST / HTTP/1.1\r\n\(host)Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n", 501),
    InvalidRequest(
        "TE chunked twice", "POST / HTTP/1.1\r\n\(host)Transfer-Encoding: chunked, chunked\r\n\r\n", 400),
    InvalidRequest(
        "TE chunked not last", "POST / HTTP/1.1\r\n\(host)Transfer-Encoding: chunked, gzip\r\n\r\n", 400),
    InvalidRequest("TE gzip alone", "POST / HTTP/1.1\r\n\(host)Transfer-Encoding: gzip\r\n\r\n", 400),
    InvalidRequest("TE identity", "POST / HTTP/1.1\r\n\(host)Transfer-Encoding: identity\r\n\r\n", 501),
    InvalidRequest(
        "TE unknown coding", "POST / HTTP/1.1\r\n\(host)Transfer-Encoding: br, chunked\r\n\r\n", 501),
    InvalidRequest("TE xchunked", "POST / HTTP/1.1\r\n\(host)Transfer-Encoding: xchunked\r\n\r\n", 501),
    InvalidRequest(
        "TE with parameter", "POST / HTTP/1.1\r\n\(host)Transfer-Encoding: chunked;q=1\r\n\r\n", 400),
    InvalidRequest("TE quoted", "POST / HTTP/1.1\r\n\(host)Transfer-Encoding: \"chunked\"\r\n\r\n", 400),
    InvalidRequest("TE empty", "POST / HTTP/1.1\r\n\(host)Transfer-Encoding:\r\n\r\n", 400),
    InvalidRequest("TE only commas", "POST / HTTP/1.1\r\n\(host)Transfer-Encoding: , ,\r\n\r\n", 400),
    // Host.
    InvalidRequest("missing Host in 1.1", "GET / HTTP/1.1\r\nAccept: */*\r\n\r\n", 400),
    InvalidRequest("empty Host in 1.1", "GET / HTTP/1.1\r\nHost:\r\n\r\n", 400),
    InvalidRequest("whitespace-only Host in 1.1", "GET / HTTP/1.1\r\nHost:  \r\n\r\n", 400),
    InvalidRequest("repeated Host", "GET / HTTP/1.1\r\n\(host)\(host)\r\n", 400),
    InvalidRequest("repeated Host in 1.0", "GET / HTTP/1.0\r\n\(host)host: other\r\n\r\n", 400),
    InvalidRequest("Host with space", "GET / HTTP/1.1\r\nHost: exa mple.com\r\n\r\n", 400),
    InvalidRequest("Host with slash", "GET / HTTP/1.1\r\nHost: example.com/x\r\n\r\n", 400),
    InvalidRequest("Host with userinfo", "GET / HTTP/1.1\r\nHost: user@example.com\r\n\r\n", 400),
    InvalidRequest("Host with empty port", "GET / HTTP/1.1\r\nHost: example.com:\r\n\r\n", 400),
    InvalidRequest("Host with big port", "GET / HTTP/1.1\r\nHost: example.com:65536\r\n\r\n", 400),
    InvalidRequest("Host list", "GET / HTTP/1.1\r\nHost: a.example, b.example\r\n\r\n", 400),
    InvalidRequest("invalid Host in 1.0", "GET / HTTP/1.0\r\nHost: a b\r\n\r\n", 400),
    InvalidRequest("unclosed IPv6 Host", "GET / HTTP/1.1\r\nHost: [::1\r\n\r\n", 400),
    // Request target.
    InvalidRequest("target without slash", "GET example.com HTTP/1.1\r\n\(host)\r\n", 400),
    InvalidRequest("authority-form without CONNECT", "GET example.com:443 HTTP/1.1\r\n\(host)\r\n", 400),
    InvalidRequest("fragment in target", "GET /a#frag HTTP/1.1\r\n\(host)\r\n", 400),
    InvalidRequest("raw non-ASCII in target", "GET /caf\u{E9} HTTP/1.1\r\n\(host)\r\n", 400),
    InvalidRequest("control character in target", "GET /a\u{1}b HTTP/1.1\r\n\(host)\r\n", 400),
    InvalidRequest("DEL in target", "GET /a\u{7F} HTTP/1.1\r\n\(host)\r\n", 400),
    InvalidRequest("tab in target", "GET /a\tb HTTP/1.1\r\n\(host)\r\n", 400),
    InvalidRequest("asterisk with GET", "GET * HTTP/1.1\r\n\(host)\r\n", 400),
    InvalidRequest("asterisk with more", "OPTIONS *x HTTP/1.1\r\n\(host)\r\n", 400),
    InvalidRequest("ftp absolute-form", "GET ftp://example.com/ HTTP/1.1\r\n\(host)\r\n", 400),
    InvalidRequest("absolute-form with empty authority", "GET http:///x HTTP/1.1\r\n\(host)\r\n", 400),
    InvalidRequest("absolute-form with userinfo", "GET http://u:p@example.com/ HTTP/1.1\r\n\(host)\r\n", 400),
    InvalidRequest("absolute-form without slashes", "GET http:example.com/ HTTP/1.1\r\n\(host)\r\n", 400),
    InvalidRequest("empty target", "GET  HTTP/1.1\r\n\(host)\r\n", 400),
    InvalidRequest("two spaces after target", "GET /  HTTP/1.1\r\n\(host)\r\n", 400),
    InvalidRequest("HTTP/0.9 request", "GET /\r\n\r\n", 400),
    // Method.
    InvalidRequest("separator in method", "G(T / HTTP/1.1\r\n\(host)\r\n", 400),
    InvalidRequest("leading space", " GET / HTTP/1.1\r\n\(host)\r\n", 400),
    InvalidRequest("tab after method", "GET\t/ HTTP/1.1\r\n\(host)\r\n", 400),
    InvalidRequest("CONNECT", "CONNECT example.com:443 HTTP/1.1\r\n\(host)\r\n", 501),
    // Version.
    InvalidRequest("HTTP/2.0", "GET / HTTP/2.0\r\n\(host)\r\n", 505),
    InvalidRequest("HTTP/0.9 version", "GET / HTTP/0.9\r\n\(host)\r\n", 505),
    InvalidRequest("HTTP/3.1", "GET / HTTP/3.1\r\n\(host)\r\n", 505),
    InvalidRequest("lowercase protocol name", "GET / http/1.1\r\n\(host)\r\n", 400),
    InvalidRequest("two-digit minor", "GET / HTTP/1.10\r\n\(host)\r\n", 400),
    InvalidRequest("missing minor", "GET / HTTP/1\r\n\(host)\r\n", 400),
    InvalidRequest("space after version", "GET / HTTP/1.1 \r\n\(host)\r\n", 400),
    InvalidRequest("letters as digits", "GET / HTTP/a.b\r\n\(host)\r\n", 400),
    InvalidRequest("HTTP/2 preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 505),
    // Sizes.
    InvalidRequest(
        "request line over the limit", "GET /" + String(repeating: "x", count: 80) + " HTTP/1.1\r\n", 414,
        limit: 64),
    InvalidRequest(
        "field section over the limit", "GET / HTTP/1.1\r\n\(host)X: " + String(repeating: "x", count: 80),
        431,
        limit: 64),
]

/// A refused request and the request line the parser reports for it (nil: none).
struct FailedLineCase: Sendable, CustomTestStringConvertible {
    var name: String
    var raw: String
    var method: String?
    var target: String?
    var limit = 16384

    init(_ name: String, _ raw: String, _ line: (String, String)?, limit: Int = 16384) {
        self.name = name
        self.raw = raw
        method = line?.0
        target = line?.1
        self.limit = limit
    }

    var expected: RequestLineText? {
        guard let method, let target else { return nil }
        return RequestLineText(method: method, target: target)
    }

    var testDescription: String { name }
}

let failedLineCases: [FailedLineCase] = [
    // The request line was complete: the error came later.
    FailedLineCase("missing Host", "GET /users?id=7 HTTP/1.1\r\nAccept: */*\r\n\r\n", ("GET", "/users?id=7")),
    FailedLineCase("bad field name", "POST /upload HTTP/1.1\r\n\(host)X(y): z\r\n\r\n", ("POST", "/upload")),
    FailedLineCase("obs-fold", "GET /a/b HTTP/1.1\r\n\(host)X: a\r\n b\r\n\r\n", ("GET", "/a/b")),
    FailedLineCase(
        "after leading empty lines", "\r\n\r\nDELETE /item/1 HTTP/1.1\r\nAccept: */*\r\n\r\n",
        ("DELETE", "/item/1")),
    FailedLineCase("extension method", "PURGE /cache HTTP/1.1\r\nHost:\r\n\r\n", ("PURGE", "/cache")),
    FailedLineCase(
        "CL and TE", "POST /p HTTP/1.1\r\n\(host)Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
        ("POST", "/p")),
    FailedLineCase(
        "invalid target form", "GET http://u:p@example.com/ HTTP/1.1\r\n\(host)\r\n",
        ("GET", "http://u:p@example.com/")),
    FailedLineCase(
        "CONNECT", "CONNECT example.com:443 HTTP/1.1\r\n\(host)\r\n", ("CONNECT", "example.com:443")),
    FailedLineCase(
        "field section over the limit", "GET /big HTTP/1.1\r\n\(host)X: " + String(repeating: "x", count: 80),
        ("GET", "/big"), limit: 64),
    // The request line itself was at fault.
    FailedLineCase("separator in method", "G(T / HTTP/1.1\r\n\(host)\r\n", nil),
    FailedLineCase("leading space", " GET / HTTP/1.1\r\n\(host)\r\n", nil),
    FailedLineCase("fragment in target", "GET /a#frag HTTP/1.1\r\n\(host)\r\n", nil),
    FailedLineCase("HTTP/2.0", "GET / HTTP/2.0\r\n\(host)\r\n", nil),
    FailedLineCase("lowercase protocol name", "GET / http/1.1\r\n\(host)\r\n", nil),
    FailedLineCase("bare LF after request line", "GET / HTTP/1.1\n\(host)\r\n", nil),
    FailedLineCase("bare CR after request line", "GET / HTTP/1.1\r\(host)\r\n", nil),
    FailedLineCase(
        "request line over the limit", "GET /" + String(repeating: "x", count: 80) + " HTTP/1.1\r\n", nil,
        limit: 64),
]

@Suite struct RequestHeadParserRejectionTests {
    @Test(arguments: invalidRequests)
    func refusesInvalidRequest(_ c: InvalidRequest) throws {
        let outcome = feedRequest(bytes(c.raw), limit: c.limit)
        let error = try #require(outcome.error, "accepted: \(outcome)")
        #expect(error.status == c.status, "\(error)")
    }

    @Test(arguments: invalidRequests)
    func invalidRequestFailsTheSameUnderEverySplit(_ c: InvalidRequest) {
        let message = bytes(c.raw)
        let whole = feedRequest(message, limit: c.limit)
        for cuts in feedings(of: message.count) {
            #expect(feedRequest(message, cuts: cuts, limit: c.limit) == whole, "cuts \(cuts.prefix(3))")
        }
    }

    @Test(arguments: failedLineCases)
    func reportsTheRequestLineOfARefusedRequest(_ c: FailedLineCase) {
        let message = bytes(c.raw)
        #expect(feedRequest(message, limit: c.limit).error != nil)
        for cuts in [[]] + feedings(of: message.count) {
            #expect(
                failedRequestLine(message, cuts: cuts, limit: c.limit) == c.expected, "cuts \(cuts.prefix(3))"
            )
        }
    }

    @Test(arguments: invalidRequests)
    func reportedRequestLineIsTheSameUnderEverySplit(_ c: InvalidRequest) {
        let message = bytes(c.raw)
        let whole = failedRequestLine(message, limit: c.limit)
        for cuts in feedings(of: message.count) {
            #expect(failedRequestLine(message, cuts: cuts, limit: c.limit) == whole, "cuts \(cuts.prefix(3))")
        }
    }

    @Test func reportedRequestLineLastsUntilTheNextMessageOrReset() throws {
        var parser = RequestHeadParser(limits: HeadLimits(maxHeaderBytes: 16384))
        let missingHost = bytes("GET /first HTTP/1.1\r\n\r\n")
        let valid = bytes("GET /second HTTP/1.1\r\n\(host)\r\n")
        let badMethod = bytes("G(T / HTTP/1.1\r\n\(host)\r\n")
        func parse(_ message: [UInt8]) -> HTTP1ParseError? {
            message.withUnsafeBytes { buffer in
                do throws(HTTP1ParseError) {
                    _ = try parser.parse(buffer)
                    return nil
                } catch {
                    return error
                }
            }
        }

        #expect(parser.failedRequestLine == nil)
        #expect(parse(missingHost) == .badRequest("missing Host"))
        let line = try #require(parser.failedRequestLine)
        #expect(text(line.method, in: missingHost) == "GET")
        #expect(text(line.target, in: missingHost) == "/first")
        #expect(parse([]) == nil)
        #expect(parser.failedRequestLine != nil, "no bytes: still the failed message")

        #expect(parse(valid) == nil)
        #expect(parser.failedRequestLine == nil)

        #expect(parse(missingHost) != nil)
        #expect(parser.failedRequestLine != nil)
        #expect(parse(badMethod) == .badRequest("invalid method"))
        #expect(parser.failedRequestLine == nil, "not the line of the message before")

        #expect(parse(missingHost) != nil)
        parser.reset()
        #expect(parser.failedRequestLine == nil)
        // The parser is ready for a message after all of this.
        #expect(parse(valid) == nil)
    }

    @Test func errorStatusesMatchTheirCases() {
        #expect(HTTP1ParseError.badRequest("x").status == 400)
        #expect(HTTP1ParseError.uriTooLong.status == 414)
        #expect(HTTP1ParseError.headersTooLarge.status == 431)
        #expect(HTTP1ParseError.notImplemented("x").status == 501)
        #expect(HTTP1ParseError.versionNotSupported.status == 505)
        #expect(HTTP1ParseError.badResponse("x").status == 502)
    }
}
