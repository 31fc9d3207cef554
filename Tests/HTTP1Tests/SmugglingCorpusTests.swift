import HTTP1
import Testing

/// Request heads that different HTTP implementations frame differently (request smuggling,
/// RFC 9112 §11.2). Every one must be refused, whole and under every split.
let smugglingCorpus: [SmugglingCase] = [
    SmugglingCase("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n"),
    SmugglingCase("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 6\r\n\r\n"),
    SmugglingCase("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\nTransfer-Encoding: chunked\r\n\r\n"),
    SmugglingCase("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n"),
    SmugglingCase("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 6\r\n\r\n"),
    SmugglingCase("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 5, 6\r\n\r\n"),
    SmugglingCase("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +6\r\n\r\n"),
    SmugglingCase("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 6\u{0}\r\n\r\n"),
    SmugglingCase("POST / HTTP/1.1\r\nHost: a\r\nContent-Length : 6\r\n\r\n"),
    SmugglingCase("POST / HTTP/1.1\r\nHost: a\r\nContent-Length\t: 6\r\nTransfer-Encoding: chunked\r\n\r\n"),
    SmugglingCase("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding : chunked\r\n\r\n"),
    SmugglingCase("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding\t: chunked\r\n\r\n"),
    SmugglingCase("POST / HTTP/1.1\r\nHost: a\r\n Transfer-Encoding: chunked\r\n\r\n"),
    SmugglingCase("POST / HTTP/1.1\r\n Transfer-Encoding: chunked\r\nHost: a\r\n\r\n"),
    SmugglingCase("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n chunked\r\n\r\n"),
    SmugglingCase("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\r\n chunked\r\n\r\n"),
    SmugglingCase("POST / HTTP/1.1\r\nHost: a\r\nX: y\r\n\tTransfer-Encoding: chunked\r\n\r\n"),
    SmugglingCase("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: xchunked\r\n\r\n"),
    SmugglingCase("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunkedx\r\n\r\n"),
    SmugglingCase("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: \u{B}chunked\r\n\r\n"),
    SmugglingCase("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: \u{C}chunked\r\n\r\n"),
    SmugglingCase("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\u{0}\r\n\r\n"),
    SmugglingCase("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: \"chunked\"\r\n\r\n"),
    SmugglingCase("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, chunked\r\n\r\n"),
    SmugglingCase(
        "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n"),
    SmugglingCase(
        "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n"),
    SmugglingCase(
        "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: identity, chunked\r\nContent-Length: 3\r\n\r\n"),
    SmugglingCase("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked;ext\r\n\r\n"),
    SmugglingCase("POST / HTTP/1.1\r\nHost: a\r\nTransfer Encoding: chunked\r\nContent-Length: 3\r\n\r\n"),
    SmugglingCase("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"),
    SmugglingCase("POST / HTTP/1.0\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"),
    SmugglingCase("POST / HTTP/1.1\nHost: a\nTransfer-Encoding: chunked\n\n"),
    SmugglingCase("POST / HTTP/1.1\r\nHost: a\nTransfer-Encoding: chunked\r\n\r\n"),
    SmugglingCase("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\n\r\n"),
    SmugglingCase("POST / HTTP/1.1\r\nHost: a\r\nX: y\rTransfer-Encoding: chunked\r\n\r\n"),
    SmugglingCase("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 6\r\r\n\r\n"),
    SmugglingCase("POST / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"),
    SmugglingCase("GET http://a/ HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"),
    SmugglingCase("GET /#/../admin HTTP/1.1\r\nHost: a\r\n\r\n"),
    SmugglingCase("GET / HTTP/1.1\r\nHost: a\r\n\u{0}Transfer-Encoding: chunked\r\n\r\n"),
]

/// One corpus entry; its description is the escaped message.
struct SmugglingCase: Sendable, CustomTestStringConvertible {
    var raw: String

    init(_ raw: String) { self.raw = raw }

    var testDescription: String { raw.debugDescription }
}

@Suite struct SmugglingCorpusTests {
    @Test(arguments: smugglingCorpus)
    func ambiguousRequestIsRefused(_ c: SmugglingCase) {
        let raw = c.raw
        let message = bytes(raw)
        let whole = feedRequest(message)
        #expect(whole.error != nil, "accepted: \(raw.debugDescription)")
        for cuts in feedings(of: message.count) {
            #expect(feedRequest(message, cuts: cuts) == whole)
        }
    }
}
