/// One RESP2 reply (the Redis serialization protocol, version 2): what a Redis or Valkey
/// server answers to a command.
///
/// An error reply (`-ERR ...`, `-NOSCRIPT ...`) is a value, not a parse failure: the stream
/// is intact and the next reply follows.
public enum RESPValue: Equatable, Sendable {
    /// `+OK`: a status line.
    case simpleString([UInt8])
    /// `-PREFIX message`: the command failed; the stream goes on.
    case error([UInt8])
    /// `:42`
    case integer(Int64)
    /// `$3 abc`, or nil for the null bulk string `$-1`.
    case bulkString([UInt8]?)
    /// `*2 ...`, or nil for the null array `*-1`.
    case array([RESPValue]?)

    /// The first word of an error reply (`NOSCRIPT`, `LOADING`, `BUSY`, `READONLY`, ...),
    /// which Redis uses as the error's kind; nil for other values.
    public var errorPrefix: [UInt8]? {
        guard case .error(let text) = self else { return nil }
        return Array(text.prefix { $0 != UInt8(ascii: " ") })
    }
}
