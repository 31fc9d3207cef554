/// Encodes commands the way every Redis client sends them: an array of bulk strings
/// (binary-safe, so arguments need no quoting).
public enum RESPCommand {
    /// Appends `arguments` (the command name first) as one command.
    public static func append(_ arguments: [[UInt8]], to out: inout [UInt8]) {
        out.append(UInt8(ascii: "*"))
        appendDecimal(arguments.count, to: &out)
        for argument in arguments {
            out.append(UInt8(ascii: "$"))
            appendDecimal(argument.count, to: &out)
            out.append(contentsOf: argument)
            out.append(contentsOf: crlf)
        }
    }

    /// One command as bytes.
    public static func encode(_ arguments: [[UInt8]]) -> [UInt8] {
        var out: [UInt8] = []
        append(arguments, to: &out)
        return out
    }

    /// One command from text arguments.
    public static func encode(_ arguments: String...) -> [UInt8] {
        encode(arguments.map { Array($0.utf8) })
    }

    private static let crlf: [UInt8] = [0x0d, 0x0a]

    private static func appendDecimal(_ value: Int, to out: inout [UInt8]) {
        precondition(value >= 0, "RESP lengths are not negative")
        var digits: [UInt8] = []
        var rest = value
        repeat {
            digits.append(UInt8(ascii: "0") + UInt8(rest % 10))
            rest /= 10
        } while rest > 0
        out.append(contentsOf: digits.reversed())
        out.append(contentsOf: crlf)
    }
}
