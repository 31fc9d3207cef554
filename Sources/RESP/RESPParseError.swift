/// Why the reply stream cannot be read further. Either case ends the connection: a RESP
/// stream has no way to find the start of the next reply again, so the commands still
/// waiting for theirs must fail rather than be matched with the wrong replies.
public enum RESPParseError: Error, Equatable, Sendable {
    /// Bytes that are not RESP2.
    case malformed(String)
    /// A line, bulk string, array or reply over `RESPLimits`.
    case tooLarge(String)
}
