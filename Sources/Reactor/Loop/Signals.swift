import CLinux
import Glibc

/// Delivers process signals as readable events on a descriptor (signalfd), so the main
/// thread can handle them as ordinary input instead of in an async-signal handler.
public final class SignalSource {
    public let fd: Int32

    /// Blocks `signals` for the calling thread and every thread it starts afterwards, so
    /// only this source sees them. Create it before starting any other thread.
    public init(signals: [Int32]) throws(SystemError) {
        let fd = signals.withUnsafeBufferPointer { clinux_signalfd_for($0.baseAddress, Int32($0.count)) }
        guard fd >= 0 else { throw SystemError("signalfd", errno: errno) }
        self.fd = fd
    }

    deinit { closeDescriptor(fd) }

    /// Waits up to `timeoutMilliseconds` (-1 = forever) for a signal; nil when none arrived.
    public func wait(timeoutMilliseconds: Int32) -> Int32? {
        var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        let ready = poll(&entry, 1, timeoutMilliseconds)
        guard ready > 0 else { return nil }
        let signal = clinux_signalfd_read(fd)
        return signal > 0 ? signal : nil
    }
}
