import Glibc

/// A buffered reader over a nonblocking socket it does not own; every wait obeys `limit`.
///
/// Used on one thread at a time. Errors name `peer` and the current `activity` so a failing
/// test says what it was waiting for.
final class SocketStream {
    /// The socket; owned by the caller, who closes it.
    let fd: Int32
    /// Readable when the owner is stopping; waits then throw `TestingError.stopped`.
    let wakeFd: Int32?
    /// Who is on the other side, for error messages (e.g. `127.0.0.1:8080`).
    let peer: String
    /// What is being read right now, for error messages (e.g. `response head`).
    var activity = "data"
    /// The time allowed for the current operation.
    var limit = WaitLimit()
    /// Upper bound for one `read(2)`; small values read a body in small steps.
    var readSizeBytes = 65536

    private var buffer: [UInt8] = []
    private var start = 0
    private var scratch = [UInt8](repeating: 0, count: 65536)

    init(fd: Int32, wakeFd: Int32? = nil, peer: String) {
        self.fd = fd
        self.wakeFd = wakeFd
        self.peer = peer
    }

    /// The number of bytes received but not yet consumed.
    var available: Int { buffer.count - start }

    /// Reads more bytes into the buffer; returns false on EOF.
    ///
    /// Throws `timedOut` when `limit` expires, `connectionReset` on ECONNRESET and `stopped`
    /// when the wake descriptor fires.
    func fill() throws -> Bool {
        compact()
        while true {
            let count = min(readSizeBytes, scratch.count)
            let received = scratch.withUnsafeMutableBytes { read(fd, $0.baseAddress, count) }
            if received > 0 {
                buffer.append(contentsOf: scratch[0..<received])
                return true
            }
            if received == 0 { return false }
            switch errno {
            case EINTR:
                continue
            case EAGAIN:
                switch try waitForEvents(fd, POLLIN, wakeFd: wakeFd, deadline: limit.nextDeadline()) {
                case .ready: continue
                case .woken: throw TestingError.stopped
                case .timedOut:
                    throw TestingError.timedOut("waiting for \(activity) from \(peer)")
                }
            case ECONNRESET:
                throw TestingError.connectionReset("while reading \(activity) from \(peer)")
            default:
                throw TestingError.system("read \(activity) from \(peer)", errno)
            }
        }
    }

    /// Reads one CRLF-terminated line and returns it without the CRLF.
    ///
    /// A bare LF is malformed (the helpers check what Portico emits, and RFC 9112 section 2.2
    /// requires CRLF of senders). EOF before the line ends throws `connectionClosed`.
    func readLine(maxBytes: Int) throws -> [UInt8] {
        var scanned = 0
        while true {
            if let index = buffer[(start + scanned)...].firstIndex(of: UInt8(ascii: "\n")) {
                guard index > start, buffer[index - 1] == UInt8(ascii: "\r") else {
                    throw TestingError.malformed("bare LF in \(activity) from \(peer)")
                }
                let line = Array(buffer[start..<(index - 1)])
                start = index + 1
                return line
            }
            scanned = available
            if scanned > maxBytes {
                throw TestingError.malformed("line longer than \(maxBytes) bytes in \(activity) from \(peer)")
            }
            guard try fill() else {
                throw TestingError.connectionClosed("in the middle of \(activity) from \(peer)")
            }
        }
    }

    /// Reads exactly `count` bytes, handing them to `sink` piece by piece as they arrive.
    ///
    /// `afterPiece` runs after each piece (used to read slowly). EOF first throws
    /// `connectionClosed` naming how many bytes were missing.
    func readExactly(
        _ count: Int, sink: (ArraySlice<UInt8>) throws -> Void, afterPiece: () throws -> Void = {}
    ) throws {
        var remaining = count
        while remaining > 0 {
            if available == 0 {
                let filled: Bool
                do {
                    filled = try fill()
                } catch TestingError.timedOut(let what) {
                    throw TestingError.timedOut("\(what) after \(count - remaining) of \(count) bytes")
                }
                guard filled else {
                    throw TestingError.connectionClosed(
                        "\(remaining) of \(count) bytes of \(activity) from \(peer) never arrived")
                }
            }
            let take = min(available, remaining)
            try sink(buffer[start..<(start + take)])
            start += take
            remaining -= take
            try afterPiece()
        }
    }

    /// Reads exactly `count` bytes and returns them.
    func readBytes(_ count: Int) throws -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(count)
        try readExactly(count, sink: { bytes.append(contentsOf: $0) })
        return bytes
    }

    /// Hands every byte to `sink` until the peer closes; returns true if it reset instead of EOF.
    ///
    /// `resetIsEnd` false makes a reset throw `connectionReset` (a truncated body).
    func readToEnd(resetIsEnd: Bool, sink: (ArraySlice<UInt8>) throws -> Void) throws -> Bool {
        while true {
            if available > 0 {
                try sink(buffer[start...])
                start = buffer.count
            }
            do {
                guard try fill() else { return false }
            } catch TestingError.connectionReset(let what) {
                if resetIsEnd { return true }
                throw TestingError.connectionReset(what)
            }
        }
    }

    private func compact() {
        if start == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            start = 0
        } else if start > 65536 {
            buffer.removeFirst(start)
            start = 0
        }
    }
}
