import Gateway
import Testing

@Suite struct JSONWriterTests {
    @Test func writesCompactJSON() {
        let value = JSONValue.object([
            ("name", .string("users")),
            ("weights", .array([.integer(1), .double(0.5), .integer(-3)])),
            ("on", .bool(true)),
            ("none", .null),
            ("empty", .object([])),
        ])
        #expect(
            value.serialized() == #"{"name":"users","weights":[1,0.5,-3],"on":true,"none":null,"empty":{}}"#)
    }

    @Test func writesPrettyJSONWithTwoSpaceIndentation() {
        let value = JSONValue.object([
            ("a", .array([.integer(1), .integer(2)])),
            ("b", .object([("c", .array([]))])),
        ])
        let expected = """
            {
              "a": [
                1,
                2
              ],
              "b": {
                "c": []
              }
            }
            """
        #expect(value.serialized(pretty: true) == expected)
    }

    @Test(arguments: [
        ("plain", #""plain""#),
        ("quote \" and \\", #""quote \" and \\""#),
        ("lines\n\r\ttab", #""lines\n\r\ttab""#),
        ("\u{0}\u{1}\u{1f}\u{7f}", #""\u0000\u0001\u001f\u007f""#),
        ("\u{8}\u{c}", #""\b\f""#),
        ("caf\u{e9} \u{1F600} /", "\"caf\u{e9} \u{1F600} /\""),
    ])
    func escapesStringsPerRFC8259(text: String, expected: String) {
        #expect(JSONValue.string(text).serialized() == expected)
    }

    @Test func writesNumbersExactly() {
        #expect(JSONValue.integer(Int(Int64.max)).serialized() == "9223372036854775807")
        #expect(JSONValue.double(100).serialized() == "100")
        #expect(JSONValue.double(0.1).serialized() == "0.1")
        #expect(JSONValue.double(.infinity).serialized() == "null")
    }

    @Test func roundTripsThroughTheParser() throws {
        let text = #"{"a":[1,2.25,"x\"y\u0001",{"b":null}],"c":"\ud83d\ude00"}"#
        let value = try JSONValue(parsing: text)
        #expect(try JSONValue(parsing: value.serialized()) == value)
        #expect(try JSONValue(parsing: value.serialized(pretty: true)) == value)
    }
}
