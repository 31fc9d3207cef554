import Gateway
import Testing

@Suite struct CIDRTests {
    @Test(arguments: [
        ("10.0.0.0/8", "10.255.1.2", true),
        ("10.0.0.0/8", "11.0.0.1", false),
        ("192.168.1.0/24", "192.168.1.255", true),
        ("192.168.1.0/24", "192.168.2.1", false),
        ("0.0.0.0/0", "8.8.8.8", true),
        ("203.0.113.7", "203.0.113.7", true),
        ("203.0.113.7", "203.0.113.8", false),
        ("::1/128", "::1", true),
        ("::1", "::2", false),
        ("2001:db8::/32", "2001:db8:ffff::1", true),
        ("2001:db8::/32", "2001:db9::1", false),
        ("2001:db8::/96", "2001:db8::ff:1", true),
        ("::/0", "::1", true),
        ("10.0.0.0/8", "::ffff:10.1.2.3", true),
        ("10.0.0.0/8", "2001:db8::1", false),
        ("::ffff:0:0/96", "10.1.2.3", true),
        ("::1/128", "127.0.0.1", false),
    ])
    func containsAddressesInItsNetwork(cidr: String, address: String, contained: Bool) throws {
        let network = try #require(CIDR(cidr))
        let ip = try #require(IPAddress(address))
        #expect(network.contains(ip) == contained)
    }

    @Test(arguments: [
        ("10.0.0.0/8", "10.0.0.0/8"),
        ("10.1.2.3/8", "10.0.0.0/8"),
        ("1.2.3.4", "1.2.3.4/32"),
        ("::1", "::1/128"),
        ("2001:db8::1/32", "2001:db8::/32"),
        ("0.0.0.0/0", "0.0.0.0/0"),
    ])
    func masksHostBitsAndDefaultsToASingleHost(text: String, canonical: String) {
        #expect(CIDR(text)?.description == canonical)
    }

    @Test(arguments: [
        "", "10.0.0.0/", "10.0.0.0/33", "::/129", "10.0.0.0/-1", "10.0.0.0/8/8", "x/8", "10.0.0.0/ 8",
    ])
    func rejectsMalformedNetworks(text: String) {
        #expect(CIDR(text) == nil)
    }
}
