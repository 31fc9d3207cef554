import HTTP1
import Testing

@Suite struct HTTP1WriterTests {
    private func written(_ body: (inout [UInt8]) -> Void) -> String {
        var out: [UInt8] = []
        body(&out)
        return String(decoding: out, as: UTF8.self)
    }

    @Test func writesRequestLine() {
        let line = written {
            HTTP1Writer.requestLine(method: bytes("PATCH"), target: bytes("/a?b=c"), into: &$0)
        }
        #expect(line == "PATCH /a?b=c HTTP/1.1\r\n")
    }

    @Test(arguments: [
        (200, "HTTP/1.1 200 OK\r\n"), (404, "HTTP/1.1 404 Not Found\r\n"),
        (431, "HTTP/1.1 431 Request Header Fields Too Large\r\n"),
        (101, "HTTP/1.1 101 Switching Protocols\r\n"),
        (599, "HTTP/1.1 599 \r\n"), (504, "HTTP/1.1 504 Gateway Timeout\r\n"),
    ])
    func writesStatusLineWithStandardReason(status: Int, expected: String) {
        #expect(written { HTTP1Writer.statusLine(status: status, into: &$0) } == expected)
    }

    @Test func writesStatusLineWithGivenReason() {
        #expect(
            written { HTTP1Writer.statusLine(status: 299, reason: bytes("Fine"), into: &$0) }
                == "HTTP/1.1 299 Fine\r\n")
    }

    @Test func everyCommonStatusHasAReason() {
        let codes =
            [100, 101, 103] + Array(200...206) + [300, 301, 302, 303, 304, 305, 307, 308]
            + Array(400...418).filter { $0 != 418 } + [421, 422, 426, 428, 429, 431] + Array(500...505)
        for code in codes { #expect(HTTP1Writer.reasonPhrase(for: code).utf8CodeUnitCount > 0, "\(code)") }
    }

    @Test func writesFieldsFromEveryKindOfInput() {
        let value = bytes("v1")
        let out = written { out in
            HTTP1Writer.field(name: "X-A", value: "1", into: &out)
            HTTP1Writer.field(name: bytes("X-B"), value: value, into: &out)
            value.withUnsafeBytes { raw in
                bytes("X-C").withUnsafeBytes { HTTP1Writer.field(name: $0, value: raw, into: &out) }
            }
            HTTP1Writer.field(name: "Content-Length".utf8, decimal: 1_234_567_890, into: &out)
            HTTP1Writer.field(name: "X-Zero".utf8, decimal: 0, into: &out)
            HTTP1Writer.endOfHead(into: &out)
        }
        #expect(out == "X-A: 1\r\nX-B: v1\r\nX-C: v1\r\nContent-Length: 1234567890\r\nX-Zero: 0\r\n\r\n")
    }

    @Test(arguments: [
        (1, "1"), (15, "f"), (16, "10"), (255, "ff"), (4096, "1000"), (65535, "ffff"),
        (1 << 40, "10000000000"),
    ])
    func writesChunkSizeInLowercaseHex(size: Int, hex: String) {
        #expect(written { HTTP1Writer.chunkHeader(size: size, into: &$0) } == hex + "\r\n")
    }

    @Test func writesDecimalExtremes() {
        #expect(written { HTTP1Writer.appendDecimal(UInt64.max, into: &$0) } == "18446744073709551615")
        #expect(written { HTTP1Writer.appendDecimal(10, into: &$0) } == "10")
    }

    @Test func writesLastChunkWithTrailers() {
        let out = written { out in
            HTTP1Writer.chunkHeader(size: 3, into: &out)
            out.append(contentsOf: bytes("abc"))
            HTTP1Writer.chunkEnd(into: &out)
            HTTP1Writer.lastChunk(trailers: [TrailerField(name: bytes("X-T"), value: bytes("1"))], into: &out)
        }
        #expect(out == "3\r\nabc\r\n0\r\nX-T: 1\r\n\r\n")
        #expect(written { HTTP1Writer.lastChunk(into: &$0) } == "0\r\n\r\n")
    }

    @Test(arguments: [
        ("a\r\n b", "a b"), ("a \t\r\n\t  b\r\n c", "a b c"), ("plain", "plain"), ("a\r\n ", "a"),
    ])
    func unfoldsObsFold(value: String, expected: String) {
        let out = written { out in
            bytes("X").withUnsafeBytes { name in
                bytes(value).withUnsafeBytes { HTTP1Writer.unfoldedField(name: name, value: $0, into: &out) }
            }
        }
        #expect(out == "X: \(expected)\r\n")
    }
}
