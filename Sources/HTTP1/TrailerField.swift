/// A trailer field of a chunked body, copied out of the input (trailers are rare and their
/// bytes do not outlive the slice they arrived in).
public struct TrailerField: Hashable, Sendable {
    /// The field name as received.
    public var name: [UInt8]
    /// The field value with surrounding whitespace removed.
    public var value: [UInt8]

    /// Creates a trailer field.
    public init(name: [UInt8], value: [UInt8]) {
        self.name = name
        self.value = value
    }
}
