// libFuzzer target for the RESP2 reply parser, compiled together with Sources/RESP/*.swift
// (see scripts/fuzz, FUZZ_TARGET=resp). Each input is parsed whole, byte by byte and in
// three pieces with small caps: the replies, and where the stream failed, must be the
// same; bytes held stay within the caps; and every reply written back out as RESP parses
// to the same value.

enum StreamOutcome: Equatable {
    case replies([RESPValue], pending: Bool)
    case failed([RESPValue], RESPParseError)
}

let limits = RESPLimits(maxLineBytes: 64, maxBulkBytes: 256, maxArrayCount: 16, maxDepth: 4, maxReplyValues: 64)

func check(_ condition: Bool, _ message: @autoclosure () -> String) {
    if !condition { fatalError("invariant broken: \(message())") }
}

func feed(_ input: UnsafeRawBufferPointer, cuts: [Int]) -> StreamOutcome {
    var parser = RESPReplyParser(limits: limits)
    var replies: [RESPValue] = []
    var start = 0
    for end in cuts + [input.count] where end >= start {
        parser.append(UnsafeRawBufferPointer(rebasing: input[start..<end]))
        start = end
        do {
            while let reply = try parser.next() { replies.append(reply) }
        } catch {
            return .failed(replies, error)
        }
        // What waits unparsed is at most a partial line or a partial bulk string.
        check(
            parser.bufferedByteCount <= max(limits.maxLineBytes, limits.maxBulkBytes) + 1, "buffered bytes")
    }
    return .replies(replies, pending: parser.isInsideReply)
}

func write(_ value: RESPValue, into out: inout [UInt8]) {
    func line(_ type: Character, _ text: [UInt8]) {
        out.append(contentsOf: Array(String(type).utf8) + text + [0x0d, 0x0a])
    }
    switch value {
    case .simpleString(let text): line("+", text)
    case .error(let text): line("-", text)
    case .integer(let number): line(":", Array(String(number).utf8))
    case .bulkString(nil): line("$", Array("-1".utf8))
    case .bulkString(let bytes?):
        line("$", Array(String(bytes.count).utf8))
        out.append(contentsOf: bytes + [0x0d, 0x0a])
    case .array(nil): line("*", Array("-1".utf8))
    case .array(let elements?):
        line("*", Array(String(elements.count).utf8))
        for element in elements { write(element, into: &out) }
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = UnsafeRawBufferPointer(start: data, count: size)
    let whole = feed(input, cuts: [])
    check(feed(input, cuts: Array(0..<input.count)) == whole, "byte by byte")
    check(feed(input, cuts: [input.count / 3, 2 * input.count / 3]) == whole, "three pieces")
    let replies: [RESPValue]
    switch whole {
    case .replies(let values, _), .failed(let values, _): replies = values
    }
    for reply in replies {
        var out: [UInt8] = []
        write(reply, into: &out)
        let again = out.withUnsafeBytes { feed($0, cuts: []) }
        check(again == .replies([reply], pending: false), "a reply written back parses the same")
    }
    return 0
}
