extension JSONValue {
    /// The value as JSON text: compact (no whitespace) or pretty (two-space indentation).
    public func serialized(pretty: Bool = false) -> String {
        var output: [UInt8] = []
        write(to: &output, pretty: pretty)
        return String(decoding: output, as: UTF8.self)
    }

    /// Appends the value as JSON text; strings are escaped as RFC 8259 §7 requires.
    public func write(to output: inout [UInt8], pretty: Bool = false) {
        write(to: &output, pretty: pretty, level: 0)
    }

    private func write(to output: inout [UInt8], pretty: Bool, level: Int) {
        switch self {
        case .null:
            output.append(contentsOf: "null".utf8)
        case .bool(let value):
            output.append(contentsOf: (value ? "true" : "false").utf8)
        case .number(let number):
            JSONValue.writeNumber(number, to: &output)
        case .string(let value):
            JSONValue.writeString(value, to: &output)
        case .array(let elements):
            output.append(UInt8(ascii: "["))
            for (position, element) in elements.enumerated() {
                if position > 0 {
                    output.append(UInt8(ascii: ","))
                }
                if pretty {
                    JSONValue.writeNewline(to: &output, level: level + 1)
                }
                element.write(to: &output, pretty: pretty, level: level + 1)
            }
            if pretty && !elements.isEmpty {
                JSONValue.writeNewline(to: &output, level: level)
            }
            output.append(UInt8(ascii: "]"))
        case .object(let members):
            output.append(UInt8(ascii: "{"))
            for (position, member) in members.enumerated() {
                if position > 0 {
                    output.append(UInt8(ascii: ","))
                }
                if pretty {
                    JSONValue.writeNewline(to: &output, level: level + 1)
                }
                JSONValue.writeString(member.key, to: &output)
                output.append(UInt8(ascii: ":"))
                if pretty {
                    output.append(UInt8(ascii: " "))
                }
                member.value.write(to: &output, pretty: pretty, level: level + 1)
            }
            if pretty && !members.isEmpty {
                JSONValue.writeNewline(to: &output, level: level)
            }
            output.append(UInt8(ascii: "}"))
        }
    }

    private static func writeNewline(to output: inout [UInt8], level: Int) {
        output.append(UInt8(ascii: "\n"))
        output.append(contentsOf: repeatElement(UInt8(ascii: " "), count: level * 2))
    }

    private static func writeNumber(_ number: JSONNumber, to output: inout [UInt8]) {
        if let integer = number.integer {
            output.append(contentsOf: String(integer).utf8)
        } else if number.double.isFinite {
            // Swift prints the shortest text that reads back as the same double, e.g. `0.1` or
            // `1e-07`, which is valid JSON.
            output.append(contentsOf: number.double.description.utf8)
        } else {
            output.append(contentsOf: "null".utf8)
        }
    }

    /// Appends `value` as a JSON string literal: quotes, backslashes and control characters are
    /// escaped; everything else is written as UTF-8.
    public static func writeString(_ value: String, to output: inout [UInt8]) {
        output.append(UInt8(ascii: "\""))
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "\""):
                output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
            case UInt8(ascii: "\\"):
                output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case 0x0A:
                output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case 0x0D:
                output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            case 0x09:
                output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            case 0x08:
                output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "b")])
            case 0x0C:
                output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "f")])
            case 0..<0x20, 0x7F:
                let hex: [UInt8] = Array("0123456789abcdef".utf8)
                output.append(contentsOf: "\\u00".utf8)
                output.append(hex[Int(byte >> 4)])
                output.append(hex[Int(byte & 0x0F)])
            default:
                output.append(byte)
            }
        }
        output.append(UInt8(ascii: "\""))
    }
}
