/// The request body bytes sent on the current attempt, kept (up to `limit`) so that another
/// attempt — a retry, or a resend after a stale pooled connection — can send the body again
/// (docs/configuration.md, "Deadlines and retries"). The bytes are kept as they went out, framing included, so the
/// replay is byte-exact. Loop-confined; one per exchange.
struct RequestReplay {
    /// Bodies up to this size are kept; a longer one cannot be sent again once it started.
    static let limit = 64 * 1024
    /// Storage beyond this is given back when the exchange is reused.
    private static let retainedCapacity = 4 * 1024

    private var bytes: [UInt8] = []
    /// How much of `bytes` went to the current attempt's connection.
    private var sent = 0
    /// Still keeping what is sent (the body may be needed again and is under the limit).
    private(set) var isKeeping = false

    /// Starts over for a new request.
    mutating func start(keeping: Bool) {
        if bytes.capacity > Self.retainedCapacity {
            bytes = []
        } else if !bytes.isEmpty {
            bytes.removeAll(keepingCapacity: true)
        }
        sent = 0
        isKeeping = keeping
    }

    /// Keeps bytes the relay just sent; false once the body outgrew the limit (then nothing
    /// is kept any more and the body cannot be sent again).
    mutating func keep(_ appended: UnsafeRawBufferPointer) -> Bool {
        guard isKeeping else { return false }
        guard bytes.count + appended.count <= Self.limit else {
            isKeeping = false
            bytes = []
            sent = 0
            return false
        }
        bytes.append(contentsOf: appended)
        sent = bytes.count
        return true
    }

    /// A new attempt: everything kept goes out again.
    @inline(__always)
    mutating func rewind() { sent = 0 }

    /// Kept bytes the current attempt has not sent yet.
    @inline(__always)
    var hasPending: Bool { sent < bytes.count }

    /// Moves pending bytes to `output` as far as it has room.
    mutating func pump(into output: inout ByteBuffer) {
        guard hasPending else { return }
        output.makeRoom(atLeast: output.capacity / 2)
        let count = min(bytes.count - sent, output.writableCount)
        guard count > 0 else { return }
        bytes.withUnsafeBytes { output.append(UnsafeRawBufferPointer(rebasing: $0[sent..<(sent + count)])) }
        sent += count
    }
}
