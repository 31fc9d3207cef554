import HTTP1
import Testing

/// A chunked body the decoder must accept.
struct ValidChunkedBody: Sendable, CustomTestStringConvertible {
    var name: String
    var raw: String
    var data: String
    var trailers: [TrailerField] = []
    var trailing = ""

    var testDescription: String { name }
}

let validChunkedBodies: [ValidChunkedBody] = [
    ValidChunkedBody(name: "one chunk", raw: "5\r\nhello\r\n0\r\n\r\n", data: "hello"),
    ValidChunkedBody(name: "empty body", raw: "0\r\n\r\n", data: ""),
    ValidChunkedBody(
        name: "several chunks", raw: "3\r\nabc\r\n1\r\nd\r\nA\r\n0123456789\r\n0\r\n\r\n",
        data: "abcd0123456789"),
    ValidChunkedBody(
        name: "upper and lower hex", raw: "a\r\n0123456789\r\nB\r\nabcdefghijk\r\n0\r\n\r\n",
        data: "0123456789abcdefghijk"),
    ValidChunkedBody(name: "leading zeros", raw: "0005\r\nhello\r\n000\r\n\r\n", data: "hello"),
    ValidChunkedBody(
        name: "extensions", raw: "5;name=value;flag\r\nhello\r\n0;last=\"q;x\"\r\n\r\n", data: "hello"),
    ValidChunkedBody(
        name: "whitespace before extension", raw: "5 \t;a=b\r\nhello\r\n0\r\n\r\n", data: "hello"),
    ValidChunkedBody(name: "data with CRLF inside", raw: "4\r\n\r\n\r\n\r\n0\r\n\r\n", data: "\r\n\r\n"),
    ValidChunkedBody(
        name: "trailers", raw: "2\r\nhi\r\n0\r\nX-Checksum: abc \r\nExpires:\tnever\r\nEmpty:\r\n\r\n",
        data: "hi",
        trailers: [
            TrailerField(name: bytes("X-Checksum"), value: bytes("abc")),
            TrailerField(name: bytes("Expires"), value: bytes("never")),
            TrailerField(name: bytes("Empty"), value: []),
        ]),
    ValidChunkedBody(
        name: "next message follows", raw: "1\r\nx\r\n0\r\n\r\nGET / HTTP/1.1\r\n", data: "x",
        trailing: "GET / HTTP/1.1\r\n"),
]

/// A chunked body the decoder must refuse.
struct InvalidChunkedBody: Sendable, CustomTestStringConvertible {
    var name: String
    var raw: String

    init(_ name: String, _ raw: String) {
        self.name = name
        self.raw = raw
    }

    var testDescription: String { name }
}

let invalidChunkedBodies: [InvalidChunkedBody] = [
    InvalidChunkedBody("empty size", "\r\nhello\r\n0\r\n\r\n"),
    InvalidChunkedBody("extension without size", ";x\r\n"),
    InvalidChunkedBody("non-hex size", "g\r\n"),
    InvalidChunkedBody("negative size", "-5\r\nhello\r\n"),
    InvalidChunkedBody("plus sign", "+5\r\nhello\r\n"),
    InvalidChunkedBody("0x prefix", "0x5\r\nhello\r\n"),
    InvalidChunkedBody("leading space", " 5\r\nhello\r\n"),
    InvalidChunkedBody("trailing space without extension", "5 \r\nhello\r\n"),
    InvalidChunkedBody("size of 2^63", "8000000000000000\r\n"),
    InvalidChunkedBody("size overflowing 64 bits", "10000000000000000\r\n"),
    InvalidChunkedBody("bare LF after size", "5\nhello\r\n0\r\n\r\n"),
    InvalidChunkedBody("bare CR after size", "5\rhello\r\n0\r\n\r\n"),
    InvalidChunkedBody("bare LF after extension", "5;a\nhello\r\n"),
    InvalidChunkedBody("control character in extension", "5;a\u{1}\r\nhello\r\n"),
    InvalidChunkedBody("extension too long", "5;" + String(repeating: "a", count: 4096) + "\r\nhello\r\n"),
    InvalidChunkedBody("size line too long", String(repeating: "0", count: 4097) + "5\r\nhello\r\n"),
    InvalidChunkedBody("data longer than size", "5\r\nhello!\r\n0\r\n\r\n"),
    InvalidChunkedBody("bare LF after data", "5\r\nhello\n0\r\n\r\n"),
    InvalidChunkedBody("bare CR after data", "5\r\nhello\r0\r\n\r\n"),
    InvalidChunkedBody("bare LF ending the body", "0\r\n\n"),
    InvalidChunkedBody("bare CR ending the body", "0\r\n\rX"),
    InvalidChunkedBody("bare LF after trailer", "0\r\nX: y\n\r\n"),
    InvalidChunkedBody("obs-fold in trailer", "0\r\nX: y\r\n z\r\n\r\n"),
    InvalidChunkedBody("space before colon in trailer", "0\r\nX : y\r\n\r\n"),
    InvalidChunkedBody("trailer without colon", "0\r\nXy\r\n\r\n"),
    InvalidChunkedBody("control character in trailer", "0\r\nX: \u{7F}\r\n\r\n"),
    InvalidChunkedBody(
        "trailer section too large",
        "0\r\n" + String(repeating: "X-Pad: " + String(repeating: "p", count: 100) + "\r\n", count: 200)
            + "\r\n"),
]

@Suite struct BodyDecoderTests {
    @Test(arguments: validChunkedBodies)
    func decodesChunkedBody(_ c: ValidChunkedBody) {
        let input = bytes(c.raw)
        let result = decodeBody(input, framing: .chunked)
        #expect(result.error == nil)
        #expect(result.isComplete)
        #expect(result.data == bytes(c.data))
        #expect(result.trailers == c.trailers)
        #expect(result.consumed == input.count - bytes(c.trailing).count)
    }

    @Test(arguments: validChunkedBodies)
    func chunkedBodyDecodesTheSameUnderEverySplit(_ c: ValidChunkedBody) {
        let input = bytes(c.raw)
        let whole = decodeBody(input, framing: .chunked)
        for cuts in feedings(of: input.count) {
            #expect(decodeBody(input, framing: .chunked, cuts: cuts) == whole, "cuts \(cuts.prefix(3))")
        }
    }

    @Test(arguments: invalidChunkedBodies)
    func refusesInvalidChunkedBody(_ c: InvalidChunkedBody) {
        let input = bytes(c.raw)
        let whole = decodeBody(input, framing: .chunked)
        #expect(whole.error?.status == 400, "\(whole)")
        for cuts in feedings(of: input.count) {
            let split = decodeBody(input, framing: .chunked, cuts: cuts)
            #expect(split.error == whole.error && split.data == whole.data)
        }
    }

    @Test func dataBeforeAnErrorIsDeliveredBeforeTheError() throws {
        var decoder = BodyDecoder(framing: .chunked)
        let input = bytes("5\r\nhello\r\n3\r\nabcX")
        var steps: [BodyStep] = []
        var offset = 0
        let error = input.withUnsafeBytes { buffer -> HTTP1ParseError? in
            while true {
                do throws(HTTP1ParseError) {
                    let step = try decoder.decode(UnsafeRawBufferPointer(rebasing: buffer[offset...]))
                    steps.append(step)
                    offset += step.consumed
                } catch {
                    return error
                }
            }
        }
        #expect(steps.map(\.data) == [3..<8, 0..<3])
        #expect(error == .badRequest("missing CRLF after chunk data"))
        #expect(offset == input.count - 1)
    }

    @Test func responseBodyErrorsAreBadResponse() {
        let result = decodeBody(bytes("5\nhello"), framing: .chunked, isResponse: true)
        #expect(result.error?.status == 502)
    }

    @Test func largestChunkSizeIsAcceptedAndWaitsForData() {
        let result = decodeBody(bytes("7fffffffffffffff\r\nabc"), framing: .chunked)
        #expect(result.error == nil && !result.isComplete && result.data == bytes("abc"))
    }

    @Test func contentLengthBodyStopsAtItsLength() {
        let input = bytes("hello world")
        let result = decodeBody(input, framing: .contentLength(5))
        #expect(result == DecodedBody(data: bytes("hello"), consumed: 5, isComplete: true))
        for cuts in feedings(of: input.count) {
            #expect(decodeBody(input, framing: .contentLength(5), cuts: cuts) == result)
        }
    }

    @Test func contentLengthBodyNeedsAllItsBytes() {
        let result = decodeBody(bytes("abc"), framing: .contentLength(10))
        #expect(result == DecodedBody(data: bytes("abc"), consumed: 3, isComplete: false))
    }

    @Test func emptyBodiesAreCompleteAtOnce() {
        for framing in [BodyFraming.none, .contentLength(0)] {
            let decoder = BodyDecoder(framing: framing)
            #expect(decoder.isComplete)
            #expect(decodeBody(bytes("GET"), framing: framing) == DecodedBody(isComplete: true))
        }
    }

    @Test func untilCloseTakesEverythingAndNeverCompletes() {
        let input = bytes("any bytes\r\n0\r\n\r\n")
        let result = decodeBody(input, framing: .untilClose, cuts: [3, 7])
        #expect(result == DecodedBody(data: input, consumed: input.count, isComplete: false))
    }

    @Test func emptyInputMakesNoProgress() throws {
        var decoder = BodyDecoder(framing: .chunked)
        let step = try [UInt8]().withUnsafeBytes { buffer throws(HTTP1ParseError) in
            try decoder.decode(buffer)
        }
        #expect(step.consumed == 0 && step.data == nil && !step.isComplete)
    }

    @Test func oneStepReturnsOneChunkAndItsFraming() throws {
        var decoder = BodyDecoder(framing: .chunked)
        let input = bytes("3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n")
        let first = try input.withUnsafeBytes { buffer throws(HTTP1ParseError) in try decoder.decode(buffer) }
        #expect(first.data == 3..<6 && first.consumed == 11 && !first.isComplete)
        let second = try input.withUnsafeBytes { buffer throws(HTTP1ParseError) in
            try decoder.decode(UnsafeRawBufferPointer(rebasing: buffer[first.consumed...]))
        }
        #expect(second.data == 0..<2 && second.isComplete && second.consumed == input.count - first.consumed)
        #expect(decoder.isComplete)
    }
}
