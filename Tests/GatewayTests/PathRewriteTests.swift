import Gateway
import Testing

@Suite struct PathRewriteTests {
    // Every example of docs/configuration.md ("routes[]"), plus the edges around them.
    @Test(arguments: [
        ("/users", "/", "/users/42", "/42"),
        ("/users/", "/", "/users/42", "/42"),
        ("/users", "/v2/users", "/users/42", "/v2/users/42"),
        ("/users/", "/v2/users", "/users/42", "/v2/users/42"),
        ("/users", "/v2/users", "/users", "/v2/users"),
        ("/users/", "/v2/users", "/users/", "/v2/users"),
        ("/users", "/v2/users", "/users/", "/v2/users/"),
        ("/users", "/", "/users/", "/"),
        ("/users", "/", "/users", "/"),
        ("/users/", "/", "/users/", "/"),
        ("/users", "/v2/", "/users/42", "/v2/42"),
        ("/users/", "/v2/", "/users/42/x", "/v2/42/x"),
        ("/", "/api", "/x/y", "/api/x/y"),
        ("/", "/api", "/", "/api"),
        ("/", "/api/", "/x", "/api/x"),
        ("/users", "/", "/users//42", "//42"),
        ("/users", "/v2", "/users/%2F42", "/v2/%2F42"),
    ])
    func replacesTheMatchedPrefixWithExactlyOneSlash(
        prefix: String, rewrite: String, path: String, expected: String
    ) {
        #expect(PathRewrite(prefix: prefix, replacement: rewrite).apply(path: path) == expected)
    }

    @Test func keepsTheQueryString() {
        let rewrite = PathRewrite(prefix: "/users", replacement: "/")
        #expect(rewrite.apply(path: "/users/42", query: "a=1&b=2") == "/42?a=1&b=2")
        #expect(rewrite.apply(path: "/users", query: "a=1") == "/?a=1")
        #expect(rewrite.apply(path: "/users/42", query: "") == "/42?")
    }

    @Test func replacesTheWholePathOfAnExactRoute() throws {
        let route = RouteConfig(
            name: "old", match: RouteMatchConfig(path: .exact("/old/page")), target: .upstream("u"),
            prefixRewrite: "/new")
        let rewrite = try #require(PathRewrite(route: route))
        #expect(rewrite.apply(path: "/old/page", query: "q") == "/new?q")
    }

    @Test func leavesRoutesWithoutRewriteUnchanged() {
        let route = RouteConfig(name: "r", target: .upstream("u"))
        #expect(PathRewrite(route: route) == nil)
        let table = RouteTable(routes: [route])
        #expect(table.forwardTarget(route: 0, path: "/a/b", query: "x=1") == "/a/b?x=1")
        #expect(table.forwardTarget(route: 0, path: "/a/b") == "/a/b")
    }

    @Test func appendsToAnExistingBuffer() {
        var target: [UInt8] = Array("GET ".utf8)
        let path: [UInt8] = Array("/users/42".utf8)
        path.withUnsafeBytes {
            PathRewrite(prefix: "/users", replacement: "/v2").apply(path: $0, query: nil, to: &target)
        }
        #expect(String(decoding: target, as: UTF8.self) == "GET /v2/42")
    }
}
