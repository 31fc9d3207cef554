import HTTP1

/// The bytes of a test message; Swift treats "\r\n" as one Character, its UTF-8 is CR LF.
func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

/// What feeding a head parser produced.
enum Outcome<Head: Equatable & Sendable>: Equatable {
    case needMore
    case complete(Head)
    case failed(HTTP1ParseError)

    var head: Head? {
        if case .complete(let head) = self { return head }
        return nil
    }

    var error: HTTP1ParseError? {
        if case .failed(let error) = self { return error }
        return nil
    }
}

/// Feeds growing prefixes of `message` ending at each cut, then the whole message, as a
/// connection would: every call sees the whole message so far.
func feedRequest(_ message: [UInt8], cuts: [Int] = [], limit: Int = 16384) -> Outcome<RequestHead> {
    var parser = RequestHeadParser(limits: HeadLimits(maxHeaderBytes: limit))
    return message.withUnsafeBytes { all in
        for cut in cuts + [message.count] {
            do throws(HTTP1ParseError) {
                switch try parser.parse(UnsafeRawBufferPointer(rebasing: all[0..<cut])) {
                case .needMore: continue
                case .complete(let head): return .complete(head)
                }
            } catch {
                return .failed(error)
            }
        }
        return .needMore
    }
}

/// The method and request-target texts a parser reports for a request it refused.
struct RequestLineText: Equatable, CustomStringConvertible {
    var method: String
    var target: String

    var description: String { "\(method) \(target)" }
}

/// Feeds `message` like `feedRequest` and, once the parser has thrown, returns the
/// request line it reports as `failedRequestLine` (nil: none, or no error).
func failedRequestLine(_ message: [UInt8], cuts: [Int] = [], limit: Int = 16384) -> RequestLineText? {
    var parser = RequestHeadParser(limits: HeadLimits(maxHeaderBytes: limit))
    return message.withUnsafeBytes { all in
        for cut in cuts + [message.count] {
            do throws(HTTP1ParseError) {
                if case .complete = try parser.parse(UnsafeRawBufferPointer(rebasing: all[0..<cut])) {
                    return nil
                }
            } catch {
                guard let line = parser.failedRequestLine else { return nil }
                return RequestLineText(
                    method: text(line.method, in: message) ?? "", target: text(line.target, in: message) ?? ""
                )
            }
        }
        return nil
    }
}

/// Response counterpart of `feedRequest`.
func feedResponse(_ message: [UInt8], cuts: [Int] = [], limit: Int = 16384) -> Outcome<ResponseHead> {
    var parser = ResponseHeadParser(limits: HeadLimits(maxHeaderBytes: limit))
    return message.withUnsafeBytes { all in
        for cut in cuts + [message.count] {
            do throws(HTTP1ParseError) {
                switch try parser.parse(UnsafeRawBufferPointer(rebasing: all[0..<cut])) {
                case .needMore: continue
                case .complete(let head): return .complete(head)
                }
            } catch {
                return .failed(error)
            }
        }
        return .needMore
    }
}

/// Every way to feed `count` bytes in two pieces (every few ways for long inputs, to keep the
/// quadratic cost bounded), plus one byte at a time.
func feedings(of count: Int) -> [[Int]] {
    let step = count / 1000 + 1
    var result = stride(from: 0, through: count, by: step).map { [$0] }
    result.append(Array(0...count))
    return result
}

/// The text of a span of `message`.
func text(_ span: ByteSpan?, in message: [UInt8]) -> String? {
    guard let span else { return nil }
    return String(decoding: message[span.range], as: UTF8.self)
}

/// The result of decoding a whole body: data, trailers, bytes consumed, completion or error.
struct DecodedBody: Equatable {
    var data: [UInt8] = []
    var trailers: [TrailerField] = []
    var consumed = 0
    var isComplete = false
    var error: HTTP1ParseError?
}

/// Decodes `input` through a `BodyDecoder`, handing it slices that end at each cut, following
/// the documented caller loop; checks the progress contract on every step.
func decodeBody(
    _ input: [UInt8], framing: BodyFraming, cuts: [Int] = [], isResponse: Bool = false
) -> DecodedBody {
    var decoder = BodyDecoder(framing: framing, isResponse: isResponse)
    var result = DecodedBody()
    var available = 0
    input.withUnsafeBytes { all in
        for cut in cuts + [input.count] where cut >= available {
            available = cut
            while true {
                let rest = UnsafeRawBufferPointer(rebasing: all[result.consumed..<available])
                let step: BodyStep
                do throws(HTTP1ParseError) {
                    step = try decoder.decode(rest)
                } catch {
                    result.error = error
                    return
                }
                precondition(step.consumed <= rest.count, "consumed more than given")
                precondition(
                    rest.isEmpty || step.isComplete || step.consumed > 0 || step.data != nil,
                    "no progress on non-empty input")
                if let data = step.data {
                    precondition(!data.isEmpty && data.upperBound <= step.consumed, "bad data range")
                    result.data.append(contentsOf: rest[data])
                }
                result.trailers.append(contentsOf: step.trailers)
                result.consumed += step.consumed
                if step.isComplete {
                    result.isComplete = true
                    return
                }
                if step.consumed == 0 && step.data == nil { break }
            }
        }
    }
    return result
}
