import Gateway
import Testing

@Suite struct ConfigAddressTests {
    static let resolve: HostResolver = { name in
        name == "localhost" ? .v4(0x7F00_0001) : name == "svc.internal" ? IPAddress("10.0.0.5") : nil
    }

    @Test(arguments: [
        ("0.0.0.0:8080", "0.0.0.0", 8080, "0.0.0.0"),
        ("127.0.0.1:9001", "127.0.0.1", 9001, "127.0.0.1"),
        ("[::1]:9001", "::1", 9001, "::1"),
        ("[2001:db8::1]:443", "2001:db8::1", 443, "2001:db8::1"),
        ("localhost:9001", "localhost", 9001, "127.0.0.1"),
        ("svc.internal:80", "svc.internal", 80, "10.0.0.5"),
        ("127.0.0.1:0", "127.0.0.1", 0, "127.0.0.1"),
    ])
    func parsesHostAndPort(text: String, host: String, port: Int, ip: String) throws {
        let address = try ConfigAddress.parse(text, resolve: Self.resolve).get()
        #expect(address.host == host)
        #expect(Int(address.port) == port)
        #expect(address.ip == IPAddress(ip))
        #expect(address.text == text)
    }

    @Test(arguments: [
        ("nonsense", #"invalid address "nonsense": expected host:port"#),
        (":8080", #"invalid address ":8080": missing host"#),
        ("1.2.3.4:", #"invalid address "1.2.3.4:": port must be a number from 0 to 65535"#),
        ("1.2.3.4:65536", #"invalid address "1.2.3.4:65536": port must be a number from 0 to 65535"#),
        ("1.2.3.4:-1", #"invalid address "1.2.3.4:-1": port must be a number from 0 to 65535"#),
        ("1.2.3.4:http", #"invalid address "1.2.3.4:http": port must be a number from 0 to 65535"#),
        ("::1:80", #"invalid address "::1:80": write IPv6 addresses in brackets, e.g. [::1]:80"#),
        ("[::1:80", #"invalid address "[::1:80": missing ']' after the IPv6 address"#),
        ("[::1]80", #"invalid address "[::1]80": expected host:port"#),
        ("[1.2.3.4]:80", #"invalid address "[1.2.3.4]:80": invalid IPv6 address"#),
        ("256.0.0.1:80", #"invalid address "256.0.0.1:80": invalid IPv4 address"#),
        ("1.2.3:80", #"invalid address "1.2.3:80": invalid IPv4 address"#),
        ("bad host:80", #"invalid address "bad host:80": invalid host name"#),
        ("-bad.example:80", #"invalid address "-bad.example:80": invalid host name"#),
        ("foo:80", #"cannot resolve host "foo""#),
    ])
    func reportsWhyAnAddressIsInvalid(text: String, message: String) {
        #expect(ConfigAddress.parse(text, resolve: Self.resolve) == .failure(AddressError(message)))
    }

    @Test func neverResolvesLiterals() {
        let resolve: HostResolver = { _ in
            Issue.record("the resolver must not be called for literals")
            return nil
        }
        _ = ConfigAddress.parse("10.0.0.1:80", resolve: resolve)
        _ = ConfigAddress.parse("[::1]:80", resolve: resolve)
    }
}
