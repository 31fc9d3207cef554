import Gateway
import Testing

@Suite struct IPAddressTests {
    @Test(arguments: [
        ("127.0.0.1", "127.0.0.1"),
        ("0.0.0.0", "0.0.0.0"),
        ("255.255.255.255", "255.255.255.255"),
        ("::", "::"),
        ("::1", "::1"),
        ("1::", "1::"),
        ("2001:DB8::8:800:200C:417A", "2001:db8::8:800:200c:417a"),
        ("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"),
        ("2001:0db8:0000:0000:0000:0000:0002:0001", "2001:db8::2:1"),
        ("1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8"),
        ("1:0:3:4:5:6:7:8", "1:0:3:4:5:6:7:8"),
        ("1::3:4:5:6:7:8", "1:0:3:4:5:6:7:8"),
        ("::ffff:10.1.2.3", "::ffff:10.1.2.3"),
        ("::FFFF:a01:203", "::ffff:10.1.2.3"),
        ("64:ff9b::192.0.2.33", "64:ff9b::c000:221"),
        ("fe80::1:0:0:0", "fe80::1:0:0:0"),
    ])
    func parsesAndPrintsCanonically(text: String, canonical: String) throws {
        let address = try #require(IPAddress(text))
        #expect(address.description == canonical)
        #expect(IPAddress(canonical) == address)
    }

    @Test(arguments: [
        "", "1.2.3", "1.2.3.4.5", "256.1.1.1", "01.2.3.4", "1.2.3.4 ", "1..2.3", "a.b.c.d", "1.2.3.-4",
        ":", ":::", "1:::2", "1::2::3", ":1::", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7", "12345::", "::g",
        "1:2:3:4:5:6:7:8::", "::1.2.3", "1.2.3.4::", "::ffff:1.2.3.4:5", "fe80::1%eth0", "[::1]",
        "1:2:3:4:5:6:7::8",
    ])
    func rejectsMalformedAddresses(text: String) {
        #expect(IPAddress(text) == nil)
    }

    @Test func storesIPv4InHostOrderAndIPv6AsHalves() {
        #expect(IPAddress("10.0.0.1") == .v4(0x0A00_0001))
        #expect(IPAddress("2001:db8::1") == .v6(high: 0x2001_0DB8_0000_0000, low: 1))
        #expect(IPAddress("10.0.0.1")?.octets == [10, 0, 0, 1])
        #expect(IPAddress("::1")?.octets == Array(repeating: 0, count: 15) + [1])
    }

    @Test(arguments: [
        ("127.0.0.1", true), ("127.255.0.9", true), ("::1", true), ("::ffff:127.0.0.1", true),
        ("0.0.0.0", false), ("10.0.0.1", false), ("::", false), ("::2", false),
    ])
    func recognisesLoopback(text: String, loopback: Bool) {
        #expect(IPAddress(text)?.isLoopback == loopback)
    }

    @Test func parsesFromBytesWithoutAString() {
        let header: [UInt8] = Array("203.0.113.7".utf8)
        let address = header.withUnsafeBytes { IPAddress(bytes: $0) }
        #expect(address == .v4(0xCB00_7107))
    }
}
