import Reactor

/// The socket side shared by the connections of the small servers on a `ListenerLoop`
/// (admin, echo): pending output in an array, edge-triggered writability, closing after
/// the last response, and a self-reference that keeps a registered connection alive.
/// Subclasses read and answer requests in `handleIO`.
class ListenerConnection: IOHandler {
    let fd: Int32
    let loop: EventLoop
    var output: [UInt8] = []
    var writable = true
    private(set) var isOpen = true
    /// Close once `output` has been written.
    var closeAfterFlush = false
    /// Registered connections keep themselves alive until they close.
    var retainSelf: ListenerConnection?

    init(fd: Int32, loop: EventLoop) {
        self.fd = fd
        self.loop = loop
        Socket.setNoDelay(fd)
    }

    func handleIO(_ events: IOEvents) {}

    /// Writes pending output; false when the connection is gone.
    func flush() -> Bool {
        guard isOpen else { return false }
        if writable {
            switch writePending(&output, to: fd) {
            case .flushed: break
            case .wouldBlock: writable = false
            case .failed:
                close()
                return false
            }
        }
        if output.isEmpty && closeAfterFlush {
            close()
            return false
        }
        return true
    }

    func close() {
        guard isOpen else { return }
        isOpen = false
        loop.deregister(fd)
        closeDescriptor(fd)
        retainSelf = nil
    }
}
