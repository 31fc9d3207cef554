/// Number and string spelling shared by the `/stats` and `/metrics` renderers.
enum StatsText {
    /// Appends `value` rounded to three decimals with at least one: `12.0`, `1.2`, `0.004`.
    /// Values too large for that, and non-finite ones, fall back to Swift's shortest spelling
    /// and `0` respectively, so the output is always a JSON number.
    static func appendDecimal(_ value: Double, to output: inout [UInt8]) {
        guard value.isFinite else {
            output.append(UInt8(ascii: "0"))
            return
        }
        let thousandths = (value * 1_000).rounded()
        guard thousandths.magnitude < 1e15 else {
            output.append(contentsOf: value.description.utf8)
            return
        }
        var scaled = Int64(thousandths)
        if scaled < 0 {
            output.append(UInt8(ascii: "-"))
            scaled = -scaled
        }
        let (whole, fraction) = scaled.quotientAndRemainder(dividingBy: 1_000)
        output.append(contentsOf: String(whole).utf8)
        output.append(UInt8(ascii: "."))
        var digits = [fraction / 100, fraction / 10 % 10, fraction % 10]
        while digits.count > 1 && digits.last == 0 {
            digits.removeLast()
        }
        for digit in digits {
            output.append(UInt8(ascii: "0") + UInt8(digit))
        }
    }

    /// Appends a Prometheus float: Swift's shortest round-trip spelling, `+Inf`, `-Inf` or `NaN`.
    static func appendFloat(_ value: Double, to output: inout [UInt8]) {
        if value.isNaN {
            output.append(contentsOf: "NaN".utf8)
        } else if value.isInfinite {
            output.append(contentsOf: (value > 0 ? "+Inf" : "-Inf").utf8)
        } else if value == value.rounded() && value.magnitude < 1e15 {
            // Whole numbers without the `.0`, as the Go client writes `le="1"`.
            output.append(contentsOf: String(Int64(value)).utf8)
        } else {
            output.append(contentsOf: value.description.utf8)
        }
    }

    /// Appends `value` as a JSON string literal; quotes, backslashes and control characters are
    /// escaped (RFC 8259 §7), everything else is copied as UTF-8.
    static func appendJSONString(_ value: String, to output: inout [UInt8]) {
        output.append(UInt8(ascii: "\""))
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"):
                output.append(UInt8(ascii: "\\"))
                output.append(byte)
            case UInt8(ascii: "\n"):
                output.append(contentsOf: "\\n".utf8)
            case UInt8(ascii: "\r"):
                output.append(contentsOf: "\\r".utf8)
            case UInt8(ascii: "\t"):
                output.append(contentsOf: "\\t".utf8)
            case 0..<0x20:
                output.append(contentsOf: "\\u00".utf8)
                output.append(hexDigit(byte >> 4))
                output.append(hexDigit(byte & 0x0F))
            default:
                output.append(byte)
            }
        }
        output.append(UInt8(ascii: "\""))
    }

    /// Appends a Prometheus label value without its quotes: backslash, double quote and line
    /// feed are escaped as text format 0.0.4 requires.
    static func appendLabelValue(_ value: String, to output: inout [UInt8]) {
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "\\"), UInt8(ascii: "\""):
                output.append(UInt8(ascii: "\\"))
                output.append(byte)
            case UInt8(ascii: "\n"):
                output.append(contentsOf: "\\n".utf8)
            default:
                output.append(byte)
            }
        }
    }

    /// Appends `# HELP` text: backslash and line feed are escaped, quotes are not.
    static func appendHelp(_ value: String, to output: inout [UInt8]) {
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "\\"):
                output.append(contentsOf: "\\\\".utf8)
            case UInt8(ascii: "\n"):
                output.append(contentsOf: "\\n".utf8)
            default:
                output.append(byte)
            }
        }
    }

    private static func hexDigit(_ nibble: UInt8) -> UInt8 {
        nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") + nibble - 10
    }
}
