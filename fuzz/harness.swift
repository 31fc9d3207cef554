// libFuzzer target for the HTTP1 codec, compiled together with Sources/HTTP1/*.swift (see
// scripts/fuzz). Each input is fed to the request parser, the response parser and a chunked
// body decoder, whole and split, and every invariant the runtime relies on is checked: the same
// result under any split, spans inside the input, the decoder's progress contract, and that a
// parsed request written back out with HTTP1Writer parses to the same fields.

/// What feeding a head parser produced.
enum FuzzOutcome<Head: Equatable>: Equatable {
    case needMore
    case complete(Head)
    case failed(HTTP1ParseError)
}

func check(_ condition: Bool, _ message: @autoclosure () -> String) {
    if !condition { fatalError("invariant broken: \(message())") }
}

func feedRequest(_ input: UnsafeRawBufferPointer, cuts: [Int], limit: Int) -> FuzzOutcome<RequestHead> {
    var parser = RequestHeadParser(limits: HeadLimits(maxHeaderBytes: limit))
    for cut in cuts + [input.count] {
        do throws(HTTP1ParseError) {
            if case .complete(let head) = try parser.parse(UnsafeRawBufferPointer(rebasing: input[0..<cut])) {
                return .complete(head)
            }
        } catch {
            return .failed(error)
        }
    }
    return .needMore
}

/// `feedRequest` with the field storage a loop lends: another connection's head is parsed
/// into the same array between every two pieces, as happens when reads interleave.
func feedRequestInterleaved(_ input: UnsafeRawBufferPointer, cuts: [Int], limit: Int) -> FuzzOutcome<RequestHead> {
    var storage: [HeaderField] = []
    var parser = RequestHeadParser(limits: HeadLimits(maxHeaderBytes: limit))
    var other = RequestHeadParser(limits: HeadLimits(maxHeaderBytes: 1024))
    let otherHead = Array("GET /other HTTP/1.1\r\nHost: other.example\r\nAccept: */*\r\nX-A: 1\r\n\r\n".utf8)
    for cut in cuts + [input.count] {
        do throws(HTTP1ParseError) {
            if case .complete(let head) = try parser.parse(
                UnsafeRawBufferPointer(rebasing: input[0..<cut]), fieldStorage: &storage)
            {
                return .complete(head)
            }
        } catch {
            return .failed(error)
        }
        let otherResult = otherHead.withUnsafeBytes { try? other.parse($0, fieldStorage: &storage) }
        guard case .complete(let parsed)? = otherResult, parsed.fields.count == 3 else {
            fatalError("invariant broken: the interleaved head did not parse")
        }
    }
    return .needMore
}

func feedResponse(_ input: UnsafeRawBufferPointer, cuts: [Int], limit: Int) -> FuzzOutcome<ResponseHead> {
    var parser = ResponseHeadParser(limits: HeadLimits(maxHeaderBytes: limit))
    for cut in cuts + [input.count] {
        do throws(HTTP1ParseError) {
            if case .complete(let head) = try parser.parse(UnsafeRawBufferPointer(rebasing: input[0..<cut])) {
                return .complete(head)
            }
        } catch {
            return .failed(error)
        }
    }
    return .needMore
}

/// Data, trailers, consumed bytes, completion and error of a body decode.
struct FuzzBody: Equatable {
    var data: [UInt8] = []
    var trailers: [TrailerField] = []
    var consumed = 0
    var isComplete = false
    var error: HTTP1ParseError?
}

func decode(_ input: UnsafeRawBufferPointer, framing: BodyFraming, cuts: [Int]) -> FuzzBody {
    var decoder = BodyDecoder(framing: framing)
    var result = FuzzBody()
    for cut in cuts + [input.count] where cut >= result.consumed {
        while true {
            let rest = UnsafeRawBufferPointer(rebasing: input[result.consumed..<cut])
            let step: BodyStep
            do throws(HTTP1ParseError) {
                step = try decoder.decode(rest)
            } catch {
                // How many framing bytes were consumed before the error depends on the split;
                // the data delivered and the error do not.
                result.error = error
                result.consumed = 0
                return result
            }
            check(step.consumed <= rest.count, "consumed beyond input")
            check(
                rest.isEmpty || step.isComplete || step.consumed > 0 || step.data != nil,
                "no progress on non-empty input")
            if let data = step.data {
                check(!data.isEmpty && data.lowerBound >= 0 && data.upperBound <= step.consumed, "data range")
                result.data.append(contentsOf: rest[data])
            }
            result.trailers += step.trailers
            result.consumed += step.consumed
            if step.isComplete {
                result.isComplete = true
                return result
            }
            if step.consumed == 0 && step.data == nil { break }
        }
    }
    return result
}

func checkSpan(_ span: ByteSpan, within count: Int) {
    check(span.start >= 0 && span.start <= span.end && Int(span.end) <= count, "span out of bounds")
}

func checkRequest(_ input: UnsafeRawBufferPointer) {
    let limit = 2048
    let whole = feedRequest(input, cuts: [], limit: limit)
    check(feedRequest(input, cuts: [input.count / 2], limit: limit) == whole, "request split in two")
    check(feedRequest(input, cuts: Array(0..<input.count), limit: limit) == whole, "request byte by byte")
    check(
        feedRequestInterleaved(input, cuts: [input.count / 3, 2 * input.count / 3], limit: limit) == whole,
        "request in three pieces with another head parsed into the lent storage between them")
    guard case .complete(let head) = whole else { return }
    check(head.headLength <= min(input.count, limit), "head length")
    for field in head.fields {
        checkSpan(field.name, within: head.headLength)
        checkSpan(field.value, within: head.headLength)
        check(!field.name.isEmpty && !field.needsUnfolding, "request field")
        check(KnownField(name: field.name.bytes(in: input)) == field.known, "known field")
    }
    checkSpan(head.target, within: head.headLength)
    checkSpan(head.originTarget, within: head.headLength)
    if let host = head.host {
        check(RequestTarget.isValidHost(host.bytes(in: input)), "host valid")
        _ = RequestTarget.lowercasedHostWithoutPort(host.bytes(in: input))
    }
    let origin = head.originTarget.bytes(in: input)
    let path = UnsafeRawBufferPointer(rebasing: origin[0..<RequestTarget.splitQuery(origin)])
    do {
        if let normal = try RequestTarget.normalizePath(path) {
            check(normal.first == UInt8(ascii: "/"), "normalized path starts with /")
            let again = try normal.withUnsafeBytes { try RequestTarget.normalizePath($0) }
            check(again == nil, "normalization is idempotent")
        }
    } catch {
        check(error as? HTTP1ParseError == .badRequest("path escapes root"), "normalization error")
    }
    if head.version == .http11 { rewriteAndReparse(head, input) }

    let body = UnsafeRawBufferPointer(rebasing: input[head.headLength...])
    let decoded = decode(body, framing: head.framing, cuts: [])
    check(decode(body, framing: head.framing, cuts: Array(0..<body.count)) == decoded, "body byte by byte")
}

/// Writes a parsed HTTP/1.1 head back out (as the gateway re-frames) and checks it parses the
/// same. (The writer always writes HTTP/1.1, so 1.0 heads would change meaning.)
func rewriteAndReparse(_ head: RequestHead, _ input: UnsafeRawBufferPointer) {
    var out: [UInt8] = []
    HTTP1Writer.requestLine(
        method: head.methodSpan.bytes(in: input), target: head.target.bytes(in: input), into: &out)
    for field in head.fields {
        HTTP1Writer.field(name: field.name.bytes(in: input), value: field.value.bytes(in: input), into: &out)
    }
    HTTP1Writer.endOfHead(into: &out)
    out.withUnsafeBytes { written in
        guard case .complete(let again) = feedRequest(written, cuts: [], limit: 1 << 20) else {
            fatalError("rewritten request does not parse")
        }
        check(again.fields.count == head.fields.count, "rewritten field count")
        for (a, b) in zip(again.fields, head.fields) {
            check(a.name.bytes(in: written).elementsEqual(b.name.bytes(in: input)), "rewritten name")
            check(a.value.bytes(in: written).elementsEqual(b.value.bytes(in: input)), "rewritten value")
        }
        check(again.framing == head.framing && again.method == head.method, "rewritten framing")
        check(
            again.isKeepAlive == head.isKeepAlive && (again.host == nil) == (head.host == nil), "keep-alive")
    }
}

func checkResponse(_ input: UnsafeRawBufferPointer) {
    let limit = 2048
    let whole = feedResponse(input, cuts: [], limit: limit)
    check(feedResponse(input, cuts: [input.count / 3], limit: limit) == whole, "response split in two")
    check(feedResponse(input, cuts: Array(0..<input.count), limit: limit) == whole, "response byte by byte")
    guard case .complete(let head) = whole else { return }
    check(head.status >= 100 && head.status <= 599, "status range")
    for field in head.fields {
        checkSpan(field.name, within: head.headLength)
        checkSpan(field.value, within: head.headLength)
        var unfolded: [UInt8] = []
        HTTP1Writer.unfoldedField(
            name: field.name.bytes(in: input), value: field.value.bytes(in: input), into: &unfolded)
        check(!unfolded.dropLast(2).contains(0x0d) && !unfolded.dropLast(2).contains(0x0a), "unfolded line")
    }
    let body = UnsafeRawBufferPointer(rebasing: input[head.headLength...])
    let framing = head.framing(requestMethod: .get)
    check(
        decode(body, framing: framing, cuts: [body.count / 2]) == decode(body, framing: framing, cuts: []),
        "response body")
}

func checkChunked(_ input: UnsafeRawBufferPointer) {
    let whole = decode(input, framing: .chunked, cuts: [])
    check(decode(input, framing: .chunked, cuts: [input.count / 2]) == whole, "chunked split in two")
    check(decode(input, framing: .chunked, cuts: Array(0..<input.count)) == whole, "chunked byte by byte")
    guard whole.isComplete else { return }
    // Re-chunk the decoded body and decode it again: same data and trailers.
    var out: [UInt8] = []
    if !whole.data.isEmpty {
        HTTP1Writer.chunkHeader(size: whole.data.count, into: &out)
        out += whole.data
        HTTP1Writer.chunkEnd(into: &out)
    }
    HTTP1Writer.lastChunk(trailers: whole.trailers, into: &out)
    let again = out.withUnsafeBytes { decode($0, framing: .chunked, cuts: []) }
    check(again.isComplete && again.data == whole.data && again.trailers == whole.trailers, "re-chunked body")
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = UnsafeRawBufferPointer(start: data, count: size)
    checkRequest(input)
    checkResponse(input)
    checkChunked(input)
    let path = UnsafeRawBufferPointer(rebasing: input[0..<RequestTarget.splitQuery(input)])
    _ = try? RequestTarget.normalizePath(path)
    _ = RequestTarget.isValidHost(input)
    return 0
}
