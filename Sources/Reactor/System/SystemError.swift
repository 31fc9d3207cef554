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

    /// `reason` starting with a lowercase letter, for a message that goes on after a colon
    /// like the gateway's other messages ("listen 127.0.0.1:8080: address already in use");
    /// a leading acronym ("RFS specific error") stays as it is.
    public var lowercasedReason: String {
        let text = reason
        guard let first = text.first, first.isUppercase,
            text.dropFirst().first.map({ !$0.isUppercase }) ?? true
        else { return text }
        return first.lowercased() + text.dropFirst()
    }

    public var description: String { "\(operation): \(reason)" }
}
