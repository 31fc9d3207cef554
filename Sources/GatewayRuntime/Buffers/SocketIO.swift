import Reactor

/// What one attempt to fill a buffer from a socket found.
enum ReadOutcome {
    /// Some bytes arrived. `drained` when the last read came up short, so the socket is empty
    /// and the next readiness edge will announce new data (no EAGAIN round trip needed).
    case progressed(drained: Bool)
    /// Nothing to read now; wait for the next readiness edge.
    case wouldBlock
    /// The buffer is full; read again once the consumer made room.
    case bufferFull
    /// The peer closed its side.
    case endOfStream
    case failed(SystemError)
}

extension ByteBuffer {
    /// Reads from `fd` until it would block, the buffer is full, or the peer closed.
    /// Edge-triggered descriptors need the loop: one readiness edge may cover many reads.
    mutating func fill(from fd: Int32) -> ReadOutcome {
        var progressed = false
        while true {
            makeRoom(atLeast: 4096)
            if writableCount == 0 { return progressed ? .progressed(drained: false) : .bufferFull }
            do {
                switch try Socket.read(fd, into: writableSpace()) {
                case .processed(0):
                    return .endOfStream
                case .processed(let count):
                    didWrite(count)
                    progressed = true
                    if writableCount > 0 { return .progressed(drained: true) }
                case .wouldBlock:
                    return progressed ? .progressed(drained: true) : .wouldBlock
                }
            } catch {
                return .failed(error)
            }
        }
    }

    /// Writes buffered bytes to `fd` until done or it would block.
    mutating func flush(to fd: Int32) -> FlushOutcome {
        while !isEmpty {
            do {
                switch try Socket.write(fd, from: readable) {
                case .processed(let count):
                    consume(count)
                case .wouldBlock:
                    return .wouldBlock
                }
            } catch {
                return .failed(error)
            }
        }
        return .flushed
    }
}

enum FlushOutcome {
    case flushed
    case wouldBlock
    case failed(SystemError)
}

/// Writes as much of `output` as `fd` takes now and drops what was written: the whole
/// write path of the small servers (admin, echo) that keep their output in an array.
func writePending(_ output: inout [UInt8], to fd: Int32) -> FlushOutcome {
    while !output.isEmpty {
        let result = output.withUnsafeBytes { raw in
            Result { () throws(SystemError) in try Socket.write(fd, from: raw) }
        }
        switch result {
        case .success(.processed(let count)): output.removeFirst(count)
        case .success(.wouldBlock): return .wouldBlock
        case .failure(let error): return .failed(error)
        }
    }
    return .flushed
}
