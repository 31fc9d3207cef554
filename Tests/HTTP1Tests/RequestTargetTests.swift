import HTTP1
import Testing

@Suite struct RequestTargetTests {
    private func normalized(_ path: String) throws -> String? {
        let input = bytes(path)
        let result = try input.withUnsafeBytes { buffer throws(HTTP1ParseError) in
            try RequestTarget.normalizePath(buffer)
        }
        return result.map { String(decoding: $0, as: UTF8.self) }
    }

    @Test(
        arguments: [
            ("/", nil), ("/a/b", nil), ("//a//b/", nil), ("/a%2F../b", nil), ("/.../a", nil), ("/.a/b.", nil),
            ("/%2e%2e%2e", nil), ("/a/%2", nil), ("/a/%2x", nil), ("/a..b", nil), ("/%2ea", nil), ("*", nil),
            ("", nil),
            ("/.", "/"), ("/./", "/"), ("/a/./b", "/a/b"), ("/a/../b", "/b"), ("/a/b/..", "/a/"),
            ("/a/b/.", "/a/b/"),
            ("/a/..", "/"), ("/a/b/c/./../../g", "/a/g"), ("/a//../b", "/a/b"), ("/a/./../b", "/b"),
            ("/%2e/a", "/a"), ("/%2E/a", "/a"), ("/a/%2e%2e/b", "/b"), ("/a/%2E%2e/b", "/b"),
            ("/a/.%2e/b", "/b"),
            ("/a/%2e./b", "/b"), ("/a/%2F/../b", "/a/b"), ("/a/b/%2e%2E", "/a/"), ("//..", "/"),
            ("/a/./", "/a/"),
            ("/a/.//b", "/a//b"), ("/a/b/../../c/", "/c/"),
        ] as [(String, String?)])
    func normalizesDotSegments(path: String, expected: String?) throws {
        #expect(try normalized(path) == expected)
    }

    @Test(arguments: ["/..", "/../a", "/a/../..", "/%2e%2e", "/a/b/../../../c", "/./..", "/.%2E/x"])
    func refusesPathsAboveTheRoot(path: String) {
        #expect(throws: HTTP1ParseError.badRequest("path escapes root")) { try normalized(path) }
    }

    @Test(arguments: [("/a?b", 2), ("/a", 2), ("?x", 0), ("/a/b?c?d", 4), ("", 0)])
    func splitsQuery(target: String, pathEnd: Int) {
        #expect(bytes(target).withUnsafeBytes { RequestTarget.splitQuery($0) } == pathEnd)
    }

    @Test(arguments: [
        "example.com", "EXAMPLE.com:8080", "a", "localhost:1", "127.0.0.1", "10.0.0.1:65535", "[::1]",
        "[::1]:443",
        "[2001:db8::1]", "[::ffff:192.0.2.1]", "[1:2:3:4:5:6:7:8]", "[1:2:3:4:5:6:7::]", "[::]",
        "[fe80::]:80",
        "my_host", "xn--bcher-kva.example", "a%41b", "host.:80", "a~b", "999.1.1.1", "a:0", "a:00080",
    ])
    func acceptsValidHost(host: String) {
        #expect(RequestTarget.isValidHost(bytes(host)))
    }

    @Test(arguments: [
        "", ":80", "a:", "a:65536", "a:123456", "a b", "a/b", "user@a", "a@b:80", "[::1", "[::1]x", "[:::1]",
        "[1:2:3:4:5:6:7:8:9]", "[1::2::3]", "[g::1]", "a,b", "a;b", "[::1]:", "a:8x", "[12345::]",
        "[::1.2.3]",
        "[::256.1.1.1]", "[::01.2.3.4]", "%zz", "a\t", "[]", "[1:2:3:4:5:6:7]", "[::1%25eth0]", "a:b:c",
        "a\u{E9}",
        "[v1.x]", "a#b", "a?b", "a\\b", "[1:2:3:4:5:6:7:8::]", "[1:]", "[:1]",
    ])
    func refusesInvalidHost(host: String) {
        #expect(!RequestTarget.isValidHost(bytes(host)))
    }

    @Test(arguments: [
        ("Example.COM:8080", "example.com"), ("[::1]:80", "[::1]"), ("[ABCD::1]", "[abcd::1]"),
        ("host", "host"),
        ("A.B.C", "a.b.c"),
    ])
    func lowercasesHostAndDropsPort(input: String, expected: String) {
        let result = bytes(input).withUnsafeBytes { RequestTarget.lowercasedHostWithoutPort($0) }
        #expect(String(decoding: result, as: UTF8.self) == expected)
    }
}
