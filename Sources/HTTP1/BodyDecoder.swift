/// Decodes a message body of a given framing from successive input slices (RFC 9112 §6, §7.1).
///
/// Contract of `decode`: it consumes a prefix of its input and returns at most one data range.
/// When the input is non-empty and the body is not complete, every call makes progress: it
/// consumes at least one byte or returns data. So `consumed == 0 && data == nil` means the
/// input was empty (or the body already complete): wait for more bytes. A caller loops:
///
/// ```
/// while true {
///     let step = try decoder.decode(rest)
///     if let data = step.data { forward(rest[data]) }
///     rest = rest[step.consumed...]
///     if step.isComplete || (step.consumed == 0 && step.data == nil) { break }
/// }
/// ```
///
/// Bytes after the end of the body are never consumed (they start the next message). Chunk
/// framing is strict: hex sizes without sign or prefix, below 2^63; extensions (ignored) only
/// after ';', at most `maxChunkLineBytes` per size line; CRLF after every size line and every
/// chunk's data; trailer fields follow the request field rules (no obs-fold, no whitespace
/// before the colon) and take at most `maxTrailerBytes`.
public struct BodyDecoder: Sendable {
    /// The longest chunk size line accepted (size, extensions; without the CRLF).
    public static let maxChunkLineBytes = 4096
    /// The most bytes the trailer section may take, CRLFs included.
    public static let maxTrailerBytes = 16384

    private enum ChunkState: UInt8, Sendable {
        case size
        case spaceBeforeExtension
        case chunkExtension
        case sizeLineFeed
        case data
        case dataCarriageReturn
        case dataLineFeed
        case trailerLineStart
        case trailerLine
        case trailerLineFeed
        case endLineFeed
        case done
    }

    /// The framing this decoder was made for.
    public private(set) var framing: BodyFraming
    private let isResponse: Bool
    private var remaining: UInt64 = 0
    private var state = ChunkState.size
    private var sawDigit = false
    private var lineBytes = 0
    private var trailerBytes = 0
    private var line: [UInt8] = []
    private var trailers: [TrailerField] = []

    /// Creates a decoder. `.none` and `.contentLength(0)` are complete at once; `.untilClose`
    /// never completes (every byte is data until the caller sees EOF). Errors are `.badRequest`,
    /// or `.badResponse` when `isResponse` is true.
    public init(framing: BodyFraming, isResponse: Bool = false) {
        self.framing = framing
        self.isResponse = isResponse
        reset(framing: framing)
    }

    /// Starts over for a new body of `framing`, keeping the storage it already has (a
    /// decoder reused per message allocates nothing for bodies without trailers).
    public mutating func reset(framing: BodyFraming) {
        self.framing = framing
        remaining = 0
        state = .size
        sawDigit = false
        lineBytes = 0
        trailerBytes = 0
        // An empty array is the shared empty storage: clearing it would allocate.
        if !line.isEmpty { line.removeAll(keepingCapacity: true) }
        if !trailers.isEmpty { trailers.removeAll(keepingCapacity: true) }
        switch framing {
        case .none: state = .done
        case .contentLength(let length):
            remaining = length
            if length == 0 { state = .done }
        case .chunked, .untilClose: break
        }
    }

    /// True once the whole body (and, for chunked, the trailer section) has been decoded.
    public var isComplete: Bool { state == .done }

    /// Bytes still expected for a Content-Length body (0 for other framings).
    public var remainingContentLength: UInt64 {
        if case .contentLength = framing { return remaining }
        return 0
    }

    /// Consumes a prefix of `input`; see the type's contract.
    public mutating func decode(_ input: UnsafeRawBufferPointer) throws(HTTP1ParseError) -> BodyStep {
        if state == .done { return BodyStep(consumed: 0, data: nil, isComplete: true) }
        switch framing {
        case .none:
            return BodyStep(consumed: 0, data: nil, isComplete: true)
        case .contentLength:
            let take = Int(min(remaining, UInt64(input.count)))
            remaining -= UInt64(take)
            if remaining == 0 { state = .done }
            return BodyStep(consumed: take, data: take > 0 ? 0..<take : nil, isComplete: state == .done)
        case .untilClose:
            let n = input.count
            return BodyStep(consumed: n, data: n > 0 ? 0..<n : nil, isComplete: false)
        case .chunked:
            return try decodeChunked(input)
        }
    }

    @inline(__always)
    private func failure(_ text: String) -> HTTP1ParseError {
        isResponse ? .badResponse(text) : .badRequest(text)
    }

    private mutating func decodeChunked(_ input: UnsafeRawBufferPointer) throws(HTTP1ParseError) -> BodyStep {
        var data: Range<Int>?
        do throws(HTTP1ParseError) {
            return try scanChunked(input, &data)
        } catch {
            // Data found before the error is delivered first, and the error is met again on the
            // next call, so how the input was split never changes which body bytes come out.
            guard let data else { throw error }
            state = .dataCarriageReturn
            remaining = 0
            lineBytes = 0
            sawDigit = false
            trailerBytes = 0
            line = []
            trailers = []
            return BodyStep(consumed: data.upperBound, data: data, isComplete: false)
        }
    }

    private mutating func scanChunked(
        _ input: UnsafeRawBufferPointer, _ data: inout Range<Int>?
    ) throws(HTTP1ParseError) -> BodyStep {
        var p = 0
        let n = input.count
        while true {
            switch state {
            case .size:
                while p < n, let digit = ByteClass.hexValue(input[p]) {
                    // Checked before shifting: the value must stay below 2^63.
                    guard remaining < 1 << 59 else { throw failure("chunk size too large") }
                    remaining = remaining << 4 | UInt64(digit)
                    sawDigit = true
                    p += 1
                    lineBytes += 1
                    guard lineBytes <= BodyDecoder.maxChunkLineBytes else {
                        throw failure("chunk size line too long")
                    }
                }
                guard p < n else { return BodyStep(consumed: p, data: data, isComplete: false) }
                let b = input[p]
                guard sawDigit else { throw failure("invalid chunk size") }
                if b == ByteClass.cr {
                    state = .sizeLineFeed
                } else if b == ByteClass.semicolon {
                    state = .chunkExtension
                } else if ByteClass.isWhitespace(b) {
                    // RFC 9112 §7.1.1: BWS is allowed only before the ';' of an extension.
                    state = .spaceBeforeExtension
                } else {
                    throw failure(b == ByteClass.lf ? "bare LF" : "invalid chunk size")
                }
                p += 1
                lineBytes += 1

            case .spaceBeforeExtension:
                while p < n && ByteClass.isWhitespace(input[p]) {
                    p += 1
                    lineBytes += 1
                }
                guard lineBytes <= BodyDecoder.maxChunkLineBytes else {
                    throw failure("chunk extension too long")
                }
                guard p < n else { return BodyStep(consumed: p, data: data, isComplete: false) }
                guard input[p] == ByteClass.semicolon else { throw failure("invalid chunk size") }
                p += 1
                lineBytes += 1
                state = .chunkExtension

            case .chunkExtension:
                // Extensions are discarded (the gateway re-chunks), so only their length and the
                // absence of control characters matter; a bare LF or CR cannot hide in them.
                while p < n && ByteClass.isFieldValue(input[p]) {
                    p += 1
                    lineBytes += 1
                }
                guard lineBytes <= BodyDecoder.maxChunkLineBytes else {
                    throw failure("chunk extension too long")
                }
                guard p < n else { return BodyStep(consumed: p, data: data, isComplete: false) }
                let b = input[p]
                guard b == ByteClass.cr else {
                    throw failure(b == ByteClass.lf ? "bare LF" : "invalid chunk extension")
                }
                p += 1
                state = .sizeLineFeed

            case .sizeLineFeed:
                guard p < n else { return BodyStep(consumed: p, data: data, isComplete: false) }
                guard input[p] == ByteClass.lf else { throw failure("bare CR") }
                p += 1
                lineBytes = 0
                sawDigit = false
                state = remaining == 0 ? .trailerLineStart : .data

            case .data:
                // One data range per step: stop in front of the next chunk's data.
                guard data == nil, p < n else {
                    return BodyStep(consumed: p, data: data, isComplete: false)
                }
                let take = Int(min(remaining, UInt64(n - p)))
                data = p..<(p + take)
                p += take
                remaining -= UInt64(take)
                if remaining == 0 { state = .dataCarriageReturn }

            case .dataCarriageReturn:
                guard p < n else { return BodyStep(consumed: p, data: data, isComplete: false) }
                guard input[p] == ByteClass.cr else { throw failure("missing CRLF after chunk data") }
                p += 1
                state = .dataLineFeed

            case .dataLineFeed:
                guard p < n else { return BodyStep(consumed: p, data: data, isComplete: false) }
                guard input[p] == ByteClass.lf else { throw failure("bare CR") }
                p += 1
                state = .size

            case .trailerLineStart:
                guard p < n else { return BodyStep(consumed: p, data: data, isComplete: false) }
                if input[p] == ByteClass.cr {
                    p += 1
                    try countTrailerBytes(1)
                    state = .endLineFeed
                } else {
                    state = .trailerLine
                }

            case .trailerLine:
                let start = p
                while p < n && ByteClass.isFieldValue(input[p]) { p += 1 }
                try countTrailerBytes(p - start)
                line.append(contentsOf: UnsafeRawBufferPointer(rebasing: input[start..<p]))
                guard p < n else { return BodyStep(consumed: p, data: data, isComplete: false) }
                let b = input[p]
                guard b == ByteClass.cr else {
                    throw failure(b == ByteClass.lf ? "bare LF" : "invalid character in trailer")
                }
                p += 1
                try countTrailerBytes(1)
                state = .trailerLineFeed

            case .trailerLineFeed:
                guard p < n else { return BodyStep(consumed: p, data: data, isComplete: false) }
                guard input[p] == ByteClass.lf else { throw failure("bare CR") }
                p += 1
                try countTrailerBytes(1)
                try appendTrailer()
                state = .trailerLineStart

            case .endLineFeed:
                guard p < n else { return BodyStep(consumed: p, data: data, isComplete: false) }
                guard input[p] == ByteClass.lf else { throw failure("bare CR") }
                p += 1
                state = .done
                let found = trailers
                trailers = []
                line = []
                return BodyStep(consumed: p, data: data, isComplete: true, trailers: found)

            case .done:
                return BodyStep(consumed: p, data: data, isComplete: true)
            }
        }
    }

    private mutating func countTrailerBytes(_ count: Int) throws(HTTP1ParseError) {
        trailerBytes += count
        guard trailerBytes <= BodyDecoder.maxTrailerBytes else { throw failure("trailer section too large") }
    }

    /// Checks the collected trailer line like a request field line and keeps a copy.
    private mutating func appendTrailer() throws(HTTP1ParseError) {
        defer { line.removeAll(keepingCapacity: true) }
        guard let colon = line.firstIndex(of: ByteClass.colon), colon > 0 else {
            throw failure(ByteClass.isWhitespace(line.first ?? 0) ? "obs-fold" : "invalid trailer field")
        }
        for i in 0..<colon where !ByteClass.isToken(line[i]) {
            throw failure(
                ByteClass.isWhitespace(line[i]) ? "whitespace before colon" : "invalid trailer field")
        }
        var start = colon + 1
        var end = line.count
        while start < end && ByteClass.isWhitespace(line[start]) { start += 1 }
        while end > start && ByteClass.isWhitespace(line[end - 1]) { end -= 1 }
        trailers.append(TrailerField(name: Array(line[0..<colon]), value: Array(line[start..<end])))
    }
}
