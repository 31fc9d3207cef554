/// An HTTP/1.x protocol version as received (1.x with x > 1 is reported as 1.1, RFC 9110 §2.5).
public struct HTTPVersion: Hashable, Sendable {
    /// The major version; always 1 in a parsed head.
    public var major: UInt8
    /// The minor version: 0 or 1.
    public var minor: UInt8

    /// Creates a version from its two digits.
    @inlinable
    public init(major: UInt8, minor: UInt8) {
        self.major = major
        self.minor = minor
    }

    /// HTTP/1.0.
    public static var http10: HTTPVersion { HTTPVersion(major: 1, minor: 0) }
    /// HTTP/1.1.
    public static var http11: HTTPVersion { HTTPVersion(major: 1, minor: 1) }
}
