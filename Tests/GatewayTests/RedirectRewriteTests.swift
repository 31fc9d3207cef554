import Gateway
import Testing

@Suite struct RedirectRewriteTests {
    /// (client-facing prefix P, prefixRewrite R, Location value, expected value or nil for unchanged).
    typealias PathCase = (prefix: String, rewrite: String, value: String, expected: String?)

    static let pathCases: [PathCase] = [
        ("/files", "/", "/sub/", "/files/sub/"),
        ("/files", "/", "/sub", "/files/sub"),
        ("/files", "/", "/", "/files"),
        ("/files", "/", "/a/b?q=1#frag", "/files/a/b?q=1#frag"),
        ("/files", "/", "/?q", "/files?q"),
        ("/files", "/", "/#top", "/files#top"),
        ("/files/", "/", "/sub", "/files/sub"),
        ("/files/", "/", "/", "/files/"),
        ("/users", "/v2/users", "/v2/users/42", "/users/42"),
        ("/users", "/v2/users", "/v2/users", "/users"),
        ("/users", "/v2/users", "/v2/users/", "/users/"),
        ("/users", "/v2/users", "/v2/users?page=2", "/users?page=2"),
        ("/users", "/v2/users", "/v2/users/42?next=/v2/users#/v2", "/users/42?next=/v2/users#/v2"),
        ("/users", "/v2/users", "/v2/usersx", nil),
        ("/users", "/v2/users", "/v2/user", nil),
        ("/users", "/v2/users", "/v2/other", nil),
        ("/users", "/v2/users", "/V2/users/42", nil),
        ("/users", "/v2/users", "/?to=/v2/users", nil),
        ("/users/", "/v2/users", "/v2/users/42", "/users/42"),
        ("/users/", "/v2/users", "/v2/users", "/users/"),
        ("/users", "/v2/", "/v2/42", "/users/42"),
        ("/users", "/v2/", "/v2/", "/users"),
        ("/users", "/v2/", "/v2", "/users"),
        ("/users", "/v2/", "/v2x", nil),
        ("/users/", "/v2/", "/v2/42/x", "/users/42/x"),
        ("/", "/api", "/api/x/y", "/x/y"),
        ("/", "/api", "/api", "/"),
        ("/", "/api", "/api/", "/"),
        ("/", "/api", "/other", nil),
        ("/files", "/files", "/files/x", "/files/x"),
    ]

    @Test(arguments: pathCases)
    func mapsAbsolutePathsUnderTheUpstreamPrefixBack(
        prefix: String, rewrite: String, value: String, expected: String?
    ) {
        let redirect = RedirectRewrite(clientPrefix: prefix, upstreamPrefix: rewrite, upstreamHost: nil)
        #expect(redirect.rewrite(value, clientHost: "gw.test") == expected)
    }

    /// Values that are not an absolute path or an http(s) URI are never touched.
    @Test(arguments: [
        "sub/x", "../x", "./", "", "?q=1", "#f", "x", "mailto:a@gw.test", "ftp://gw.test/x", "http:/x",
        "http//gw.test/x", "httpx://gw.test/x", "http:gw.test/x", "garbage value", " /x",
    ])
    func leavesOtherReferencesUnchanged(value: String) {
        let redirect = RedirectRewrite(clientPrefix: "/files", upstreamPrefix: "/", upstreamHost: nil)
        #expect(redirect.rewrite(value, clientHost: "gw.test") == nil)
    }

    /// (Location value, client's Host, expected value or nil) for a route `/files` rewritten to
    /// `/`, whose upstream was sent the client's Host.
    static let passedHostCases: [(value: String, clientHost: String?, expected: String?)] = [
        ("http://gw.test:8080/sub/", "gw.test:8080", "http://gw.test:8080/files/sub/"),
        ("https://gw.test:8080/x", "gw.test:8080", "https://gw.test:8080/files/x"),
        ("HTTP://GW.TEST:8080/sub/?q#f", "gw.test:8080", "HTTP://gw.test:8080/files/sub/?q#f"),
        ("http://gw.test:8080/x", "GW.Test:8080", "http://GW.Test:8080/files/x"),
        ("http://gw.test:8080", "gw.test:8080", "http://gw.test:8080/files"),
        ("http://gw.test:8080?q", "gw.test:8080", "http://gw.test:8080/files?q"),
        ("http://gw.test:8080#f", "gw.test:8080", "http://gw.test:8080/files#f"),
        ("//gw.test:8080/x?y", "gw.test:8080", "//gw.test:8080/files/x?y"),
        ("http://[::1]:8080/x", "[::1]:8080", "http://[::1]:8080/files/x"),
        ("http://gw.test/x", "gw.test:8080", nil),
        ("http://gw.test:80/x", "gw.test", nil),
        ("http://other.example:8080/x", "gw.test:8080", nil),
        ("http://gw.test:8080.evil/x", "gw.test:8080", nil),
        ("http://user@gw.test:8080/x", "gw.test:8080", nil),
        ("//other.example/x", "gw.test:8080", nil),
        ("http:///x", "gw.test:8080", nil),
        ("http://gw.test:8080/x", nil, nil),
        ("//gw.test:8080/x", nil, nil),
        ("/x", nil, "/files/x"),
    ]

    @Test(arguments: passedHostCases)
    func mapsAbsoluteURIsAtTheClientsHost(value: String, clientHost: String?, expected: String?) {
        let redirect = RedirectRewrite(clientPrefix: "/files", upstreamPrefix: "/", upstreamHost: nil)
        #expect(redirect.rewrite(value, clientHost: clientHost) == expected)
    }

    /// (Location value, client's Host, expected value or nil) for a route `/api` rewritten to
    /// `/v2` with `hostRewrite: backend.internal:9000`.
    static let rewrittenHostCases: [(value: String, clientHost: String?, expected: String?)] = [
        ("http://backend.internal:9000/v2/x", "api.example.com", "http://api.example.com/api/x"),
        ("http://BACKEND.Internal:9000/v2/x?q", "api.example.com", "http://api.example.com/api/x?q"),
        ("https://backend.internal:9000/v2", "api.example.com:8443", "https://api.example.com:8443/api"),
        ("//backend.internal:9000/v2/x", "api.example.com", "//api.example.com/api/x"),
        ("http://backend.internal:9000/other", "api.example.com", "http://api.example.com/other"),
        ("http://backend.internal:9000", "api.example.com", "http://api.example.com"),
        ("http://backend.internal/v2/x", "api.example.com", nil),
        ("http://api.example.com/v2/x", "api.example.com", nil),
        ("http://elsewhere.example/v2/x", "api.example.com", nil),
        ("http://backend.internal:9000/v2/x", nil, nil),
        ("/v2/x", "api.example.com", "/api/x"),
        ("/v2/x", nil, "/api/x"),
        ("/other", "api.example.com", nil),
    ]

    @Test(arguments: rewrittenHostCases)
    func mapsAbsoluteURIsAtTheRewrittenHost(value: String, clientHost: String?, expected: String?) {
        let redirect = RedirectRewrite(
            clientPrefix: "/api", upstreamPrefix: "/v2", upstreamHost: "backend.internal:9000")
        #expect(redirect.rewrite(value, clientHost: clientHost) == expected)
    }

    /// (Location value, expected value or nil) for a route `/files` with only
    /// `hostRewrite: backend:8080`: the host is mapped, paths are not.
    static let hostOnlyCases: [(value: String, expected: String?)] = [
        ("http://backend:8080/a", "http://gw.test/a"),
        ("http://backend:8080/files/a?q#f", "http://gw.test/files/a?q#f"),
        ("http://backend:8080", "http://gw.test"),
        ("//BACKEND:8080/a", "//gw.test/a"),
        ("/a", nil),
        ("/files/a", nil),
        ("http://gw.test/a", nil),
        ("http://elsewhere/a", nil),
        ("a", nil),
    ]

    @Test(arguments: hostOnlyCases)
    func mapsOnlyTheHostWithoutPrefixRewrite(value: String, expected: String?) throws {
        let route = RouteConfig(
            name: "r", match: RouteMatchConfig(path: .prefix("/files")), target: .upstream("u"),
            hostRewrite: "backend:8080")
        let redirect = try #require(RedirectRewrite(route: route))
        #expect(redirect.upstreamPrefix == nil)
        #expect(redirect.rewrite(value, clientHost: "gw.test") == expected)
    }

    /// With no `prefixRewrite` and the client's Host passed through, an absolute URI at that
    /// host already points where it should.
    @Test func leavesAMatchingURIUnchangedWhenNothingMaps() {
        let redirect = RedirectRewrite(clientPrefix: "/users", upstreamPrefix: "/v2", upstreamHost: nil)
        #expect(redirect.rewrite("http://gw.test/other", clientHost: "gw.test") == nil)
        #expect(redirect.rewrite("http://gw.test/v2/x", clientHost: "gw.test") == "http://gw.test/users/x")
    }

    /// (exact path, prefixRewrite, Location value, expected value or nil).
    @Test(arguments: [
        ("/login", "/auth/login", "/auth/login", "/login"),
        ("/login", "/auth/login", "/auth/login?next=/", "/login?next=/"),
        ("/login", "/auth/login", "/auth/login/", "/login/"),
        ("/login", "/auth/login", "/auth/login/x", "/login/x"),
        ("/login", "/auth/login", "/auth/loginx", nil),
        ("/login", "/auth/login", "/auth", nil),
        ("/old/page", "/", "/", "/old/page"),
        ("/old/page", "/", "/new", "/old/page/new"),
    ])
    func mapsExactPathRoutesToTheirPath(path: String, rewrite: String, value: String, expected: String?)
        throws
    {
        let route = RouteConfig(
            name: "r", match: RouteMatchConfig(path: .exact(path)), target: .upstream("u"),
            prefixRewrite: rewrite)
        let redirect = try #require(RedirectRewrite(route: route))
        #expect(redirect.clientPrefix == Array(path.utf8))
        #expect(redirect.rewrite(value, clientHost: "gw.test") == expected)
    }

    @Test func takesPrefixAndHostFromTheRoute() throws {
        let route = RouteConfig(
            name: "r", match: RouteMatchConfig(path: .prefix("/files")), target: .upstream("u"),
            prefixRewrite: "/", hostRewrite: "backend:8080")
        #expect(
            RedirectRewrite(route: route)
                == RedirectRewrite(clientPrefix: "/files", upstreamPrefix: "/", upstreamHost: "backend:8080"))
        let anyPath = RouteConfig(name: "r", target: .upstream("u"), prefixRewrite: "/v2")
        let redirect = try #require(RedirectRewrite(route: anyPath))
        #expect(redirect.clientPrefix == Array("/".utf8))
        #expect(redirect.rewrite("/v2/x", clientHost: nil) == "/x")
    }

    /// The precomputed nil that keeps other routes off this path.
    @Test(arguments: [
        RouteConfig(name: "plain", target: .upstream("u")),
        RouteConfig(
            name: "off", match: RouteMatchConfig(path: .prefix("/files")), target: .upstream("u"),
            prefixRewrite: "/", hostRewrite: "backend", redirectRewrite: false),
        RouteConfig(
            name: "direct",
            target: .directResponse(DirectResponseConfig(status: 200, body: "", contentType: "a/b")),
            prefixRewrite: "/"),
    ])
    func isAbsentWithoutRewriteOrWhenTurnedOff(route: RouteConfig) {
        #expect(RedirectRewrite(route: route) == nil)
    }

    /// A path the route forwards, once mapped back, forwards to the same upstream path again.
    @Test(arguments: [
        ("/users", "/", "/users/42"), ("/users/", "/", "/users/42"), ("/users", "/v2/users", "/users/42"),
        ("/users/", "/v2/users", "/users/42"), ("/users", "/v2/users", "/users"),
        ("/users", "/v2/users", "/users/"), ("/users", "/", "/users/"), ("/users", "/v2/", "/users/42"),
        ("/users/", "/v2/", "/users/42/x"), ("/", "/api", "/x/y"), ("/", "/api", "/"), ("/", "/api/", "/x"),
    ])
    func invertsThePathRewrite(prefix: String, rewrite: String, path: String) throws {
        let forward = PathRewrite(prefix: prefix, replacement: rewrite)
        let upstreamPath = forward.apply(path: path)
        let back = RedirectRewrite(clientPrefix: prefix, upstreamPrefix: rewrite, upstreamHost: nil)
        let clientPath = try #require(back.rewrite(upstreamPath, clientHost: nil))
        #expect(forward.apply(path: clientPath) == upstreamPath)
    }

    @Test func keepsBytesThatAreNotUTF8() {
        let value: [UInt8] = Array("/sub/".utf8) + [0xff, 0x80] + Array("?q".utf8)
        let redirect = RedirectRewrite(clientPrefix: "/files", upstreamPrefix: "/", upstreamHost: nil)
        let rewritten = value.withUnsafeBytes { redirect.rewrite($0, clientHost: nil) }
        #expect(rewritten == Array("/files/sub/".utf8) + [0xff, 0x80] + Array("?q".utf8))
    }
}
