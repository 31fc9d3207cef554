import Dispatch
import Gateway
import Glibc
import HTTP1
import Reactor
import Synchronization

/// Writes one JSON line per request (docs/operations.md, "Access log") from a thread of its own, so the
/// event loops never block on the sink. Loops append to a bounded queue; when the sink
/// cannot keep up and the queue is full, lines are dropped and counted.
final class AccessLogWriter: Sendable {
    private struct Queue {
        var pending: [UInt8] = []
        var pendingLines = 0
        var stopping = false
        /// A sink to switch to before writing the next batch (reload, log rotation).
        var reopen: Sink?
    }

    /// Where lines go; owned by the writer thread.
    private struct Sink {
        var fd: Int32
        var ownsFD: Bool
    }

    private let enabled: Atomic<Bool>
    var isEnabled: Bool { enabled.load(ordering: .relaxed) }
    /// The writer thread's current sink; only that thread touches it after start.
    private let sink: Mutex<Sink>
    private let queue = Mutex(Queue())
    private let wake = DispatchSemaphore(value: 0)
    private let maxQueuedBytes: Int
    let written = Atomic<Int>(0)
    let dropped = Atomic<Int>(0)
    private let finished = DispatchSemaphore(value: 0)

    /// Opens the sink; `nil` when a file cannot be opened (the caller reports it).
    init?(sink configured: AccessLogSink, maxQueuedBytes: Int) {
        self.maxQueuedBytes = maxQueuedBytes
        // A pipe sink whose reader went away must not kill the process with SIGPIPE
        // (sockets use MSG_NOSIGNAL; plain write(2) to a pipe has no such flag).
        ignoreBrokenPipeSignal()
        guard let opened = Self.open(configured) else { return nil }
        sink = Mutex(opened)
        enabled = Atomic(opened.fd >= 0)
        let writer = self
        _ = LoopThread.start { writer.runWriter() }
    }

    /// Opens a sink; fd -1 for "off", nil when a file cannot be opened.
    private static func open(_ sink: AccessLogSink) -> Sink? {
        switch sink {
        case .off:
            return Sink(fd: -1, ownsFD: false)
        case .stdout:
            return Sink(fd: 1, ownsFD: false)
        case .file(let path):
            let fd = Glibc.open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
            return fd >= 0 ? Sink(fd: fd, ownsFD: true) : nil
        }
    }

    /// Switches to `sink` (a file is opened anew even when its path is unchanged, so log
    /// rotation works by renaming the file and reloading). False when it cannot be opened;
    /// the log is then off until the next successful reopen.
    func reopen(sink configured: AccessLogSink) -> Bool {
        let opened = Self.open(configured)
        let next = opened ?? Sink(fd: -1, ownsFD: false)
        queue.withLock { $0.reopen = next }
        enabled.store(next.fd >= 0, ordering: .relaxed)
        wake.signal()
        return opened != nil
    }

    /// Formats and queues the record's line. Called on a loop; never blocks on I/O.
    func write(_ record: RequestRecord, now: Instant) {
        guard isEnabled else { return }
        var line: [UInt8] = []
        line.reserveCapacity(320)
        AccessLogLine.append(record, now: now, to: &line)
        let accepted = queue.withLock { queue -> (Bool, Bool) in
            if queue.pending.count + line.count > maxQueuedBytes { return (false, false) }
            let wasEmpty = queue.pending.isEmpty
            queue.pending.append(contentsOf: line)
            queue.pendingLines += 1
            return (true, wasEmpty)
        }
        if !accepted.0 {
            dropped.add(1, ordering: .relaxed)
            return
        }
        if accepted.1 { wake.signal() }
    }

    /// Flushes what is queued and stops the writer thread. A sink that does not take the
    /// lines within a second (a pipe nobody reads) is abandoned, so shutdown never hangs on it.
    func stop() {
        queue.withLock { $0.stopping = true }
        wake.signal()
        guard finished.wait(timeout: .now() + .seconds(1)) == .success else { return }
        let current = sink.withLock { $0 }
        if current.ownsFD { close(current.fd) }
    }

    private func runWriter() {
        while true {
            wake.wait()
            let (batch, lines, stopping, reopen) = queue.withLock { queue -> ([UInt8], Int, Bool, Sink?) in
                let taken = (queue.pending, queue.pendingLines, queue.stopping, queue.reopen)
                queue.pending = []
                queue.pendingLines = 0
                queue.reopen = nil
                return taken
            }
            let fd = sink.withLock { $0.fd }
            if fd >= 0 && !batch.isEmpty {
                FileIO.writeAll(fd, batch)
                written.add(lines, ordering: .relaxed)
            }
            if let reopen {
                let previous = sink.withLock { current -> Sink in
                    let old = current
                    current = reopen
                    return old
                }
                if previous.ownsFD { close(previous.fd) }
            }
            if stopping {
                finished.signal()
                return
            }
        }
    }

}

/// The JSON line of one request.
enum AccessLogLine {
    static func append(_ record: RequestRecord, now: Instant, to out: inout [UInt8]) {
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
        func milliseconds(_ span: TimeSpan) {
            let micros = UInt64(max(0, span.nanoseconds)) / 1000
            HTTP1Writer.appendDecimal(micros / 1000, into: &out)
            out.append(UInt8(ascii: "."))
            let fraction = micros % 1000
            if fraction < 100 { out.append(UInt8(ascii: "0")) }
            if fraction < 10 { out.append(UInt8(ascii: "0")) }
            HTTP1Writer.appendDecimal(fraction, into: &out)
        }
        key(#"{"ts":"#)
        string(WallClock.iso8601Now())
        key(#","requestId":"#)
        record.requestID.withUnsafeBytes { JSONText.appendString($0, to: &out) }
        let details = record.logDetails
        key(#","client":"#)
        string(details?.clientIP ?? "unknown")
        key(#","method":"#)
        JSONText.appendString(details?.method ?? [], to: &out)
        key(#","host":"#)
        JSONText.appendString(details?.host ?? [], to: &out)
        key(#","path":"#)
        JSONText.appendString(details?.target ?? [], to: &out)
        key(#","route":"#)
        string(record.route?.name)
        key(#","upstream":"#)
        string(record.upstream?.name)
        key(#","server":"#)
        string(record.server?.key)
        key(#","status":"#)
        HTTP1Writer.appendDecimal(UInt64(max(0, record.status)), into: &out)
        key(#","attempts":"#)
        HTTP1Writer.appendDecimal(UInt64(max(0, record.attempts)), into: &out)
        key(#","durationMs":"#)
        milliseconds(now - record.startedAt)
        key(#","upstreamMs":"#)
        if let started = record.upstreamStartedAt {
            milliseconds((record.upstreamHeadAt ?? now) - started)
        } else {
            out.append(contentsOf: "null".utf8)
        }
        key(#","bytesIn":"#)
        HTTP1Writer.appendDecimal(UInt64(max(0, record.bytesIn)), into: &out)
        key(#","bytesOut":"#)
        HTTP1Writer.appendDecimal(UInt64(max(0, record.bytesOut)), into: &out)
        key(#","error":"#)
        string(record.errorKind?.code)
        out.append(contentsOf: "}\n".utf8)
    }
}
