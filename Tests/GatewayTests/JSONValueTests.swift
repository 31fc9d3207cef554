import Gateway
import Testing

@Suite struct JSONValueTests {
    @Test func parsesEveryKindOfValue() throws {
        let value = try JSONValue(parsing: #" {"a": [1, -2.5, true, false, null], "b": {"c": "d"}} "#)
        #expect(
            value
                == .object([
                    (
                        "a",
                        .array([.integer(1), .double(-2.5), .bool(true), .bool(false), .null])
                    ),
                    ("b", .object([("c", .string("d"))])),
                ]))
    }

    @Test func keepsMemberOrderAndDuplicateKeys() throws {
        let value = try JSONValue(parsing: #"{"z": 1, "a": 2, "z": 3}"#)
        guard case .object(let members) = value else {
            Issue.record("expected an object")
            return
        }
        #expect(members.map(\.key) == ["z", "a", "z"])
        #expect(value["z"] == .integer(1))
    }

    @Test(arguments: [
        (#""\"\\\/\b\f\n\r\t""#, "\"\\/\u{8}\u{c}\n\r\t"),
        (#""\u0041\u00e9\u4e2d""#, "A\u{e9}\u{4e2d}"),
        (#""\ud83d\ude00""#, "\u{1F600}"),
        (#""\uD834\uDD1E x""#, "\u{1D11E} x"),
        ("\"caf\u{e9} \u{1F600}\"", "caf\u{e9} \u{1F600}"),
        (#""\u0000""#, "\u{0}"),
    ])
    func decodesStringEscapes(text: String, expected: String) throws {
        #expect(try JSONValue(parsing: text) == .string(expected))
    }

    @Test(
        arguments: [
            ("0", 0.0, Int64?.some(0)),
            ("-0", 0.0, Int64?.some(0)),
            ("42", 42.0, Int64?.some(42)),
            ("-17", -17.0, Int64?.some(-17)),
            ("1.5", 1.5, Int64?.none),
            ("1.0", 1.0, Int64?.some(1)),
            ("1e3", 1000.0, Int64?.some(1000)),
            ("2.5E-1", 0.25, Int64?.none),
            ("9223372036854775807", 9_223_372_036_854_775_807.0, Int64?.some(.max)),
            ("9223372036854775808", 9_223_372_036_854_775_808.0, Int64?.none),
            ("1e300", 1e300, Int64?.none),
        ] as [(String, Double, Int64?)])
    func parsesNumbers(text: String, double: Double, integer: Int64?) throws {
        guard case .number(let number) = try JSONValue(parsing: text) else {
            Issue.record("expected a number")
            return
        }
        #expect(number.double == double)
        #expect(number.integer == integer)
    }

    @Test(arguments: [
        ("", "line 1 column 1: unexpected end of input"),
        ("   ", "line 1 column 4: unexpected end of input"),
        ("{\"a\": 1,}", "line 1 column 9: expected a string key, found '}'"),
        ("[1, 2,]", "line 1 column 7: expected a value, found ']'"),
        ("{\"a\" 1}", "line 1 column 6: expected ':' after an object key, found '1'"),
        ("{\n  \"a\": 1\n  \"b\": 2\n}", "line 3 column 3: expected ',' or '}', found '\"'"),
        ("[1 2]", "line 1 column 4: expected ',' or ']', found '2'"),
        ("01", "line 1 column 2: invalid number: leading zero"),
        ("-", "line 1 column 2: invalid number: expected a digit"),
        ("1.", "line 1 column 3: invalid number: expected a digit after '.'"),
        ("1e+", "line 1 column 4: invalid number: expected a digit in the exponent"),
        ("+1", "line 1 column 1: expected a value, found '+'"),
        (".5", "line 1 column 1: expected a value, found '.'"),
        ("1e999", "line 1 column 1: number out of range"),
        ("tru", "line 1 column 1: invalid literal, expected true"),
        ("nul", "line 1 column 1: invalid literal, expected null"),
        ("\"abc", "line 1 column 5: unterminated string"),
        ("\"a\tb\"", "line 1 column 3: control character in a string must be escaped"),
        (#""\x""#, "line 1 column 2: invalid escape sequence"),
        (#""\u12G4""#, "line 1 column 2: invalid \\u escape: expected four hex digits"),
        (#""\ud83d""#, "line 1 column 2: unpaired surrogate in \\u escape"),
        (#""\ud83d\u0041""#, "line 1 column 2: unpaired surrogate in \\u escape"),
        (#""\ude00""#, "line 1 column 2: unpaired surrogate in \\u escape"),
        ("{} {}", "line 1 column 4: unexpected content after the JSON value"),
        ("// comment\n{}", "line 1 column 1: expected a value, found '/'"),
        ("{'a': 1}", "line 1 column 2: expected a string key, found '''"),
        ("\"\u{e9}\" x", "line 1 column 5: unexpected content after the JSON value"),
    ])
    func reportsSyntaxErrorsWithLineAndColumn(text: String, expected: String) {
        #expect(throws: JSONSyntaxError.self) { try JSONValue(parsing: text) }
        do {
            _ = try JSONValue(parsing: text)
        } catch {
            #expect(error.description == expected)
        }
    }

    @Test(
        arguments: [
            [0x22, 0xC3, 0x28, 0x22],  // bad continuation byte
            [0x22, 0xC0, 0xAF, 0x22],  // overlong '/'
            [0x22, 0xED, 0xA0, 0x80, 0x22],  // UTF-8 encoded surrogate
            [0x22, 0xF4, 0x90, 0x80, 0x80, 0x22],  // beyond U+10FFFF
            [0x22, 0xE2, 0x82, 0x22],  // truncated sequence
        ] as [[UInt8]])
    func rejectsInvalidUTF8(bytes: [UInt8]) {
        #expect(throws: JSONSyntaxError(line: 1, column: 2, message: "invalid UTF-8")) {
            try JSONValue(parsing: bytes)
        }
    }

    @Test func ignoresLeadingByteOrderMark() throws {
        #expect(try JSONValue(parsing: [0xEF, 0xBB, 0xBF] + Array("[]".utf8)) == .array([]))
    }

    @Test func refusesNestingBeyondTheLimit() throws {
        let deep = String(repeating: "[", count: 600) + String(repeating: "]", count: 600)
        #expect(throws: JSONSyntaxError.self) { try JSONValue(parsing: deep) }
        let fine = String(repeating: "[", count: 500) + String(repeating: "]", count: 500)
        #expect(throws: Never.self) { try JSONValue(parsing: fine) }
    }
}
