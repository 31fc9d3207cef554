import Glibc

/// A failed system call: the operation that failed and its errno.
public struct SystemError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What was being done, e.g. "bind" or "connect".
    public var operation: String
    public var errno: Int32

    public init(_ operation: String, errno: Int32) {
        self.operation = operation
        self.errno = errno
    }

    /// The system's text for the errno, e.g. "Address already in use".
    public var reason: String { String(cString: strerror(errno)) }

    public var description: String { "\(operation): \(reason)" }
}
