import Testing

@testable import GatewayRuntime

/// Request ids are held inline up to 32 bytes and spill to an array beyond; either way the
/// bytes must come back exactly (README.md, "How requests are handled": client ids of 1–200 visible ASCII bytes).
@Suite struct RequestIDTests {
    private func text(_ id: RequestID) -> String { String(decoding: id.bytes, as: UTF8.self) }

    private func clientID(_ value: String) -> RequestID? {
        Array(value.utf8).withUnsafeBytes { RequestID(client: $0) }
    }

    @Test func generatedIDsAre32LowercaseHexDigitsAndDiffer() {
        var random = FastRandom()
        let first = text(RequestID(using: &random))
        let second = text(RequestID(using: &random))
        #expect(first.count == 32 && first.allSatisfy { $0.isHexDigit && !$0.isUppercase })
        #expect(first != second)
    }

    @Test(arguments: [
        "a", "abc-123", String(repeating: "x", count: 32), String(repeating: "y", count: 33),
        String(repeating: "z", count: 200),
    ])
    func clientIDsComeBackExactly(value: String) throws {
        let id = try #require(clientID(value))
        #expect(text(id) == value)
    }

    @Test(arguments: ["", "has space", "tab\there", String(repeating: "z", count: 201), "caf\u{e9}"])
    func invalidClientIDsAreRefused(value: String) {
        #expect(clientID(value) == nil)
    }
}
