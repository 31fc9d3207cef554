import Dispatch
import Gateway
import Glibc
import Reactor
import Synchronization

/// Writes one JSON line per request (SPEC section 12) from a thread of its own, so the
/// event loops never block on the sink. Loops append to a bounded queue; when the sink
/// cannot keep up and the queue is full, lines are dropped and counted.
final class AccessLogWriter: Sendable {
    private struct Queue {
        var pending: [UInt8] = []
        var stopping = false
    }

    let isEnabled: Bool
    private let fd: Int32
    private let ownsFD: Bool
    private let queue = Mutex(Queue())
    private let wake = DispatchSemaphore(value: 0)
    private let maxQueuedBytes: Int
    let written = Atomic<Int>(0)
    let dropped = Atomic<Int>(0)
    private let finished = DispatchSemaphore(value: 0)

    /// Opens the sink; `nil` when a file cannot be opened (the caller reports it).
    init?(sink: AccessLogSink, maxQueuedBytes: Int = 4 << 20) {
        self.maxQueuedBytes = maxQueuedBytes
        switch sink {
        case .off:
            isEnabled = false
            fd = -1
            ownsFD = false
        case .stdout:
            isEnabled = true
            fd = 1
            ownsFD = false
        case .file(let path):
            let opened = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
            guard opened >= 0 else { return nil }
            isEnabled = true
            fd = opened
            ownsFD = true
        }
        if isEnabled {
            let writer = self
            _ = LoopThread.start { writer.runWriter() }
        }
    }

    /// Formats and queues the record's line. Called on a loop; never blocks on I/O.
    func write(_ record: RequestRecord, now: UInt64) {
        guard isEnabled else { return }
        var line: [UInt8] = []
        line.reserveCapacity(320)
        AccessLogLine.append(record, now: now, to: &line)
        let accepted = queue.withLock { queue -> (Bool, Bool) in
            if queue.pending.count + line.count > maxQueuedBytes { return (false, false) }
            let wasEmpty = queue.pending.isEmpty
            queue.pending.append(contentsOf: line)
            return (true, wasEmpty)
        }
        if !accepted.0 {
            dropped.add(1, ordering: .relaxed)
            return
        }
        written.add(1, ordering: .relaxed)
        if accepted.1 { wake.signal() }
    }

    /// Flushes what is queued and stops the writer thread.
    func stop() {
        guard isEnabled else { return }
        queue.withLock { $0.stopping = true }
        wake.signal()
        finished.wait()
        if ownsFD { close(fd) }
    }

    private func runWriter() {
        while true {
            wake.wait()
            let (batch, stopping) = queue.withLock { queue -> ([UInt8], Bool) in
                let taken = queue.pending
                queue.pending = []
                return (taken, queue.stopping)
            }
            writeAll(batch)
            if stopping {
                finished.signal()
                return
            }
        }
    }

    private func writeAll(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let count = Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset)
                if count <= 0 {
                    if count < 0 && errno == EINTR { continue }
                    return
                }
                offset += count
            }
        }
    }
}

/// The JSON line of one request.
enum AccessLogLine {
    static func append(_ record: RequestRecord, now: UInt64, to out: inout [UInt8]) {
        func key(_ name: String) {
            out.append(contentsOf: name.utf8)
        }
        func string(_ value: String?) {
            if let value {
                JSONText.appendString(value.utf8, to: &out)
            } else {
                out.append(contentsOf: "null".utf8)
            }
        }
        func milliseconds(_ nanos: UInt64) {
            let micros = nanos / 1000
            Bytes.appendDecimal(micros / 1000, to: &out)
            out.append(UInt8(ascii: "."))
            let fraction = micros % 1000
            if fraction < 100 { out.append(UInt8(ascii: "0")) }
            if fraction < 10 { out.append(UInt8(ascii: "0")) }
            Bytes.appendDecimal(fraction, to: &out)
        }
        key(#"{"ts":"#)
        string(WallClock.iso8601Now())
        key(#","requestId":"#)
        JSONText.appendString(record.requestID, to: &out)
        key(#","client":"#)
        string(record.clientIP)
        key(#","method":"#)
        JSONText.appendString(record.method, to: &out)
        key(#","host":"#)
        JSONText.appendString(record.host, to: &out)
        key(#","path":"#)
        JSONText.appendString(record.target, to: &out)
        key(#","route":"#)
        string(record.routeName)
        key(#","upstream":"#)
        string(record.upstreamName)
        key(#","server":"#)
        string(record.serverKey)
        key(#","status":"#)
        Bytes.appendDecimal(record.status, to: &out)
        key(#","attempts":"#)
        Bytes.appendDecimal(record.attempts, to: &out)
        key(#","durationMs":"#)
        milliseconds(now &- record.startedAt)
        key(#","upstreamMs":"#)
        if record.upstreamStartedAt > 0 {
            let end = record.upstreamHeadAt > 0 ? record.upstreamHeadAt : now
            milliseconds(end &- record.upstreamStartedAt)
        } else {
            out.append(contentsOf: "null".utf8)
        }
        key(#","bytesIn":"#)
        Bytes.appendDecimal(record.bytesIn, to: &out)
        key(#","bytesOut":"#)
        Bytes.appendDecimal(record.bytesOut, to: &out)
        key(#","error":"#)
        string(record.error?.code)
        out.append(contentsOf: "}\n".utf8)
    }
}
