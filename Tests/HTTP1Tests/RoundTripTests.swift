import HTTP1
import Testing

/// SplitMix64: a tiny deterministic generator, so every run tests the same messages.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// A request built by the generator: what was written, to compare with what is parsed.
struct GeneratedRequest {
    var method: [UInt8]
    var target: [UInt8]
    var host: [UInt8]
    var fields: [(name: [UInt8], value: [UInt8])]
    var body: [UInt8]
    var chunked: Bool
    var hasLength: Bool
    var trailers: [TrailerField]
    var wire: [UInt8] = []
}

struct RequestGenerator {
    var rng: SplitMix64

    private static let tokenChars = bytes(
        "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
    private static let pathChars = bytes(
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~!$&'()*+,;=:@%")
    private static let reserved: Set<String> = ["host", "content-length", "transfer-encoding"]

    mutating func int(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &rng) }

    mutating func token(_ length: ClosedRange<Int>) -> [UInt8] {
        (0..<int(length)).map { _ in RequestGenerator.tokenChars.randomElement(using: &rng)! }
    }

    /// A value with visible ASCII, obs-text and inner whitespace, but none at either end.
    mutating func value() -> [UInt8] {
        let count = int(0...40)
        var out: [UInt8] = []
        for i in 0..<count {
            let kind = int(0...9)
            if kind == 0 && i > 0 && i < count - 1 {
                out.append(int(0...1) == 0 ? 0x20 : 0x09)
            } else if kind == 1 {
                out.append(UInt8(int(0x80...0xFF)))
            } else {
                out.append(UInt8(int(0x21...0x7E)))
            }
        }
        return out
    }

    mutating func request() -> GeneratedRequest {
        let methods = ["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD", "PROPFIND"]
        var target = bytes("/")
        for _ in 0..<int(0...4) {
            target += (0..<int(0...8)).map { _ in RequestGenerator.pathChars.randomElement(using: &rng)! }
            target.append(UInt8(ascii: "/"))
        }
        if int(0...1) == 0 {
            target +=
                bytes("?q=")
                + (0..<int(0...10)).map { _ in RequestGenerator.pathChars.randomElement(using: &rng)! }
        }
        var fields: [(name: [UInt8], value: [UInt8])] = []
        for _ in 0..<int(0...20) {
            let name = token(1...24)
            if RequestGenerator.reserved.contains(String(decoding: name, as: UTF8.self).lowercased()) {
                continue
            }
            fields.append((name, value()))
        }
        let bodyKind = int(0...2)
        let body = (0..<(bodyKind == 0 ? 0 : int(0...3000))).map { _ in UInt8(int(0...255)) }
        var trailers: [TrailerField] = []
        if bodyKind == 2 {
            for _ in 0..<int(0...3) { trailers.append(TrailerField(name: token(1...12), value: value())) }
        }
        var request = GeneratedRequest(
            method: bytes(methods[int(0...methods.count - 1)]), target: target,
            host: bytes("h\(int(0...999)).example:\(int(1...65535))"), fields: fields, body: body,
            chunked: bodyKind == 2, hasLength: bodyKind == 1, trailers: trailers)
        request.wire = serialize(request)
        return request
    }

    mutating func serialize(_ request: GeneratedRequest) -> [UInt8] {
        var out: [UInt8] = []
        HTTP1Writer.requestLine(method: request.method, target: request.target, into: &out)
        HTTP1Writer.field(name: "Host".utf8, value: request.host, into: &out)
        for field in request.fields { HTTP1Writer.field(name: field.name, value: field.value, into: &out) }
        if request.hasLength {
            HTTP1Writer.field(name: "Content-Length".utf8, decimal: UInt64(request.body.count), into: &out)
        }
        if request.chunked { HTTP1Writer.field(name: "Transfer-Encoding", value: "chunked", into: &out) }
        HTTP1Writer.endOfHead(into: &out)
        if request.chunked {
            var rest = request.body[...]
            while !rest.isEmpty {
                let size = min(rest.count, int(1...700))
                HTTP1Writer.chunkHeader(size: size, into: &out)
                out.append(contentsOf: rest.prefix(size))
                HTTP1Writer.chunkEnd(into: &out)
                rest = rest.dropFirst(size)
            }
            HTTP1Writer.lastChunk(trailers: request.trailers, into: &out)
        } else {
            out.append(contentsOf: request.body)
        }
        return out
    }

    mutating func cuts(upTo count: Int) -> [Int] {
        (0..<int(0...6)).map { _ in int(0...count) }.sorted()
    }
}

@Suite struct RoundTripTests {
    @Test func randomRequestsSurviveWriteAndParseUnderRandomSplits() throws {
        var generator = RequestGenerator(rng: SplitMix64(state: 0x5EED_1234_ABCD_0042))
        for iteration in 0..<400 {
            let request = generator.request()
            let wire = request.wire
            let outcome = feedRequest(wire, cuts: generator.cuts(upTo: wire.count))
            let head = try #require(outcome.head, "iteration \(iteration): \(outcome)")
            #expect(Array(wire[head.methodSpan.range]) == request.method)
            #expect(Array(wire[head.target.range]) == request.target)
            #expect(head.host.map { Array(wire[$0.range]) } == request.host)
            let parsed = head.fields.dropFirst().filter {
                $0.known != .contentLength && $0.known != .transferEncoding
            }
            #expect(parsed.count == request.fields.count, "iteration \(iteration)")
            for (field, expected) in zip(parsed, request.fields) {
                #expect(Array(wire[field.name.range]) == expected.name)
                #expect(Array(wire[field.value.range]) == expected.value, "iteration \(iteration)")
            }
            let framing: BodyFraming =
                request.chunked
                ? .chunked : request.hasLength ? .contentLength(UInt64(request.body.count)) : .none
            #expect(head.framing == framing)

            let body = Array(wire[head.headLength...])
            let decoded = decodeBody(body, framing: head.framing, cuts: generator.cuts(upTo: body.count))
            #expect(decoded.error == nil)
            #expect(decoded.isComplete)
            #expect(decoded.data == request.body, "iteration \(iteration)")
            #expect(decoded.trailers == request.trailers)
            #expect(decoded.consumed == body.count)
        }
    }
}
