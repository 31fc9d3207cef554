import CLinux

/// Readiness reported by epoll for one descriptor.
public struct IOEvents: OptionSet, Sendable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    public static let readable = IOEvents(rawValue: EPOLLIN.rawValue)
    public static let writable = IOEvents(rawValue: EPOLLOUT.rawValue)
    /// The peer shut down its writing side (EPOLLRDHUP).
    public static let readHangup = IOEvents(rawValue: EPOLLRDHUP.rawValue)
    public static let hangup = IOEvents(rawValue: EPOLLHUP.rawValue)
    public static let error = IOEvents(rawValue: EPOLLERR.rawValue)
}

/// Receives readiness events for a registered descriptor. Loop-confined.
public protocol IOHandler: AnyObject {
    /// Called on the loop thread with what the descriptor became ready for.
    func handleIO(_ events: IOEvents)
}

/// Receives a call at the start of the next loop iteration, e.g. to continue reading after
/// a read budget ran out on an edge-triggered descriptor.
public protocol DeferredHandler: AnyObject {
    func runDeferred()
}
