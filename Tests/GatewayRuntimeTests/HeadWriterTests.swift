import Testing

@testable import GatewayRuntime

@Suite struct HeadWriterTests {
    @Test(
        arguments: [
            0, 7, 9, 10, 42, 99, 100, 101, 999, 1000, 12_345, 100_000, 999_999_999, 1_000_000_000,
            9_999_999_999_999_999_999, 10_000_000_000_000_000_000, UInt64.max,
        ] as [UInt64])
    func writesDecimals(_ value: UInt64) {
        var writer = HeadWriter(capacity: 4)
        writer.append("n=")
        writer.appendDecimal(value)
        #expect(String(decoding: writer.bytes, as: UTF8.self) == "n=\(value)")
    }
}
