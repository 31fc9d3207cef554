import HTTP1

/// Moves one message body from a connection's input to the other connection's output,
/// decoded and framed anew (RFC 9112 §6, §7): the one relay for request bodies (client to
/// upstream) and response bodies (upstream to client).
///
/// Only what is buffered and fits is moved; the caller reads more or waits for room
/// (backpressure both ways). Loop-confined, reused for every message.
struct BodyRelay {
    /// How the body is framed on the way out.
    enum Output {
        /// As many bytes as the message's framing field says (or up to the close).
        case raw
        /// Re-chunked, with the forwardable trailer fields.
        case chunked
    }

    /// What one call moved.
    struct Progress {
        /// Input bytes taken (framing included): they cannot be taken again.
        var consumed = false
        /// Body data bytes moved.
        var dataBytes = 0
    }

    enum Failure: Error {
        case malformed(HTTP1ParseError)
        /// More body bytes than `limit`.
        case tooLarge
    }

    private var decoder: BodyDecoder
    private var output = Output.raw
    /// The most body bytes accepted (`maxRequestBodyBytes`), or `.max`.
    private var limit = UInt64.max
    private var bodyBytes: UInt64 = 0
    /// The source closed: a body framed by the close is complete once its buffered bytes are out.
    private var sourceClosed = false
    private(set) var isComplete = true

    init(isResponse: Bool) {
        decoder = BodyDecoder(framing: .none, isResponse: isResponse)
    }

    /// Starts a new body of `framing` (`.none` and `.contentLength(0)` are complete at once).
    mutating func reset(framing: BodyFraming, output: Output, limit: UInt64 = .max) {
        decoder.reset(framing: framing)
        self.output = output
        self.limit = limit
        bodyBytes = 0
        sourceClosed = false
        isComplete = decoder.isComplete
    }

    /// The source connection closed; for a body that runs until the close, that is its end.
    mutating func sourceEnded() {
        sourceClosed = true
    }

    /// Relays what is buffered in `input`, as far as `destination` has room.
    mutating func relay(from input: inout ByteBuffer, to destination: inout ByteBuffer) throws(Failure)
        -> Progress
    {
        var progress = Progress()
        // Room for a chunk-size line and its CRLFs beside the data.
        let framingOverhead = 32
        while !isComplete && !input.isEmpty {
            destination.makeRoom(atLeast: destination.capacity / 2)
            let room = destination.writableCount - framingOverhead
            if room <= 0 { break }
            let available = input.readable
            let slice = UnsafeRawBufferPointer(rebasing: available[0..<min(available.count, room)])
            let step: BodyStep
            do {
                step = try decoder.decode(slice)
            } catch {
                throw .malformed(error)
            }
            if let range = step.data {
                bodyBytes += UInt64(range.count)
                if bodyBytes > limit { throw .tooLarge }
                if output == .chunked { destination.appendChunkHeader(size: range.count) }
                destination.append(UnsafeRawBufferPointer(rebasing: slice[range]))
                if output == .chunked { destination.appendCRLF() }
                progress.dataBytes += range.count
            }
            input.consume(step.consumed)
            if step.consumed > 0 { progress.consumed = true }
            if step.isComplete {
                if output == .chunked { appendLastChunk(trailers: step.trailers, to: &destination) }
                isComplete = true
            } else if step.consumed == 0 && step.data == nil {
                break
            }
        }
        if sourceClosed && !isComplete && input.isEmpty && decoder.framing == .untilClose {
            if output == .chunked { appendLastChunk(trailers: [], to: &destination) }
            isComplete = true
        }
        return progress
    }

    private func appendLastChunk(trailers: [TrailerField], to destination: inout ByteBuffer) {
        var last: [UInt8] = []
        HTTP1Writer.lastChunk(trailers: trailers.filter(Self.isForwardable), into: &last)
        last.withUnsafeBytes { destination.append($0) }
    }

    /// Trailer fields that may cross the proxy: not framing, routing or hop-by-hop fields.
    private static func isForwardable(_ field: TrailerField) -> Bool {
        let known = field.name.withUnsafeBytes { KnownField(name: $0) }
        return !known.isHopByHop && known != .contentLength && known != .host && known != .contentType
    }
}
