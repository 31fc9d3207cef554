/// The one error type of PorticoTesting: every failed wait, socket or process operation throws it.
///
/// Each case carries a human-readable account of what was awaited so a failing test says
/// why it failed instead of hanging or printing a bare errno.
package enum TestingError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A blocking operation did not complete before its timeout; the text names what was awaited.
    case timedOut(String)
    /// The peer closed its side (EOF) while more bytes were expected.
    case connectionClosed(String)
    /// The peer reset the connection (ECONNRESET or EPIPE).
    case connectionReset(String)
    /// Bytes that should have been HTTP/1.1 or JSON were not; the text says where.
    case malformed(String)
    /// A system call failed with `errno`; the text names the operation.
    case system(String, Int32)
    /// A `FakeUpstream` is stopping, which interrupts handlers blocked in its writer.
    case stopped
    /// A child process ended (or closed its output) before the awaited event happened.
    case processEnded(String)

    /// A one-line description suitable for a test failure message.
    package var description: String {
        switch self {
        case .timedOut(let what): return "timed out: \(what)"
        case .connectionClosed(let what): return "connection closed by peer: \(what)"
        case .connectionReset(let what): return "connection reset by peer: \(what)"
        case .malformed(let what): return "malformed: \(what)"
        case .system(let operation, let code):
            return "\(operation) failed: \(errnoText(code)) (errno \(code))"
        case .stopped: return "fake upstream stopped"
        case .processEnded(let what): return "process ended: \(what)"
        }
    }
}
