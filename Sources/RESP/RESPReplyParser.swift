/// Reads RESP2 replies from a byte stream that arrives in pieces of any size.
///
/// Incremental: bytes are appended as they are read, and `next()` returns each complete
/// reply in order. A partial reply keeps what was parsed of it (the arrays opened so far
/// and their finished elements), so a large reply arriving a byte at a time is not parsed
/// again from its start. Every size is capped (`RESPLimits`).
///
/// After a failure the parser stays failed: the caller closes the connection and fails
/// every command still waiting (RESPParseError).
public struct RESPReplyParser: Sendable {
    public let limits: RESPLimits
    private var buffer: [UInt8] = []
    private var readIndex = 0
    /// Arrays opened by the reply being read, innermost last.
    private var openArrays: [OpenArray] = []
    /// The length of a bulk string whose `$n` line was read; its bytes come next.
    private var pendingBulkLength: Int?
    /// Values of the current reply so far, for `maxReplyValues`.
    private var replyValues = 0
    private var failure: RESPParseError?

    private struct OpenArray: Sendable {
        var remaining: Int
        var elements: [RESPValue]
    }

    public init(limits: RESPLimits = RESPLimits()) {
        self.limits = limits
    }

    /// Bytes received and not yet returned as part of a reply.
    public var bufferedByteCount: Int { buffer.count - readIndex }

    /// True when a reply has begun and is not complete.
    public var isInsideReply: Bool {
        bufferedByteCount > 0 || !openArrays.isEmpty || pendingBulkLength != nil
    }

    /// Adds bytes read from the connection.
    public mutating func append(_ bytes: UnsafeRawBufferPointer) {
        if readIndex > 0 && (readIndex == buffer.count || readIndex >= 4096) {
            buffer.removeFirst(readIndex)
            readIndex = 0
        }
        buffer.append(contentsOf: bytes)
    }

    /// Adds bytes read from the connection.
    public mutating func append(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { append($0) }
    }

    /// The next complete reply, or nil until more bytes arrive.
    public mutating func next() throws(RESPParseError) -> RESPValue? {
        if let failure { throw failure }
        do {
            return try parseNext()
        } catch {
            failure = error
            throw error
        }
    }

    private mutating func parseNext() throws(RESPParseError) -> RESPValue? {
        while true {
            let value: RESPValue
            if let length = pendingBulkLength {
                guard buffer.count - readIndex >= length + 2 else { return nil }
                let end = readIndex + length
                guard buffer[end] == 0x0d, buffer[end + 1] == 0x0a else {
                    throw .malformed("a bulk string is longer than its length")
                }
                value = .bulkString(Array(buffer[readIndex..<end]))
                readIndex = end + 2
                pendingBulkLength = nil
            } else {
                guard let line = try takeLine() else { return nil }
                guard let parsed = try startValue(line) else { continue }
                value = parsed
            }
            if let reply = try complete(value) { return reply }
        }
    }

    /// The next line without its CRLF, or nil when it has not fully arrived.
    private mutating func takeLine() throws(RESPParseError) -> Range<Int>? {
        let available = buffer.count - readIndex
        let scanEnd = readIndex + min(available, limits.maxLineBytes + 1)
        var index = readIndex
        while index < scanEnd {
            if buffer[index] == 0x0d {
                guard index + 1 < buffer.count else { return nil }
                guard buffer[index + 1] == 0x0a else { throw .malformed("CR without LF") }
                let line = readIndex..<index
                readIndex = index + 2
                return line
            }
            if buffer[index] == 0x0a { throw .malformed("LF without CR") }
            index += 1
        }
        if available > limits.maxLineBytes { throw .tooLarge("a reply line is too long") }
        return nil
    }

    /// The value a type line stands for, or nil when its content follows (a bulk string's
    /// bytes, an array's elements).
    private mutating func startValue(_ line: Range<Int>) throws(RESPParseError) -> RESPValue? {
        guard !line.isEmpty else { throw .malformed("an empty reply line") }
        try countValue()
        let payload = (line.lowerBound + 1)..<line.upperBound
        switch buffer[line.lowerBound] {
        case UInt8(ascii: "+"):
            return .simpleString(Array(buffer[payload]))
        case UInt8(ascii: "-"):
            return .error(Array(buffer[payload]))
        case UInt8(ascii: ":"):
            return .integer(try integer(payload))
        case UInt8(ascii: "$"):
            let length = try integer(payload)
            if length == -1 { return .bulkString(nil) }
            guard length >= 0 else { throw .malformed("a negative bulk string length") }
            guard length <= limits.maxBulkBytes else { throw .tooLarge("a bulk string is too long") }
            pendingBulkLength = Int(length)
            return nil
        case UInt8(ascii: "*"):
            let count = try integer(payload)
            if count == -1 { return .array(nil) }
            guard count >= 0 else { throw .malformed("a negative array length") }
            guard count <= limits.maxArrayCount else { throw .tooLarge("an array is too long") }
            if count == 0 { return .array([]) }
            guard openArrays.count < limits.maxDepth else { throw .tooLarge("arrays nest too deep") }
            var elements: [RESPValue] = []
            elements.reserveCapacity(Int(count))
            openArrays.append(OpenArray(remaining: Int(count), elements: elements))
            return nil
        default:
            throw .malformed("an unknown reply type")
        }
    }

    private mutating func countValue() throws(RESPParseError) {
        replyValues += 1
        if replyValues > limits.maxReplyValues { throw .tooLarge("a reply has too many values") }
    }

    /// Places a finished value in the array it belongs to; returns the reply once the
    /// outermost value is finished.
    private mutating func complete(_ value: RESPValue) throws(RESPParseError) -> RESPValue? {
        var finished = value
        while !openArrays.isEmpty {
            let last = openArrays.count - 1
            openArrays[last].elements.append(finished)
            openArrays[last].remaining -= 1
            guard openArrays[last].remaining == 0 else { return nil }
            finished = .array(openArrays.removeLast().elements)
        }
        replyValues = 0
        return finished
    }

    /// A signed decimal with no sign but `-`, no leading `+`, no spaces, within Int64.
    private func integer(_ range: Range<Int>) throws(RESPParseError) -> Int64 {
        var index = range.lowerBound
        let negative = index < range.upperBound && buffer[index] == UInt8(ascii: "-")
        if negative { index += 1 }
        guard index < range.upperBound else { throw .malformed("an empty number") }
        var value: Int64 = 0
        while index < range.upperBound {
            let digit = buffer[index] &- UInt8(ascii: "0")
            guard digit < 10 else { throw .malformed("a number with a non-digit") }
            // Accumulate negatively so Int64.min parses too.
            let (times10, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (next, overflow2) = times10.subtractingReportingOverflow(Int64(digit))
            guard !overflow1, !overflow2 else { throw .malformed("a number out of range") }
            value = next
            index += 1
        }
        if negative { return value }
        guard value != Int64.min else { throw .malformed("a number out of range") }
        return -value
    }
}
