import Gateway
import Testing

@Suite struct RouteTableTests {
    static func route(
        _ name: String, host: HostPattern? = nil, path: PathPattern = .prefix("/"), methods: [String]? = nil,
        headers: [ConfigHeaderField] = []
    ) -> RouteConfig {
        RouteConfig(
            name: name, match: RouteMatchConfig(host: host, path: path, methods: methods, headers: headers),
            target: .upstream("u"))
    }

    static let table = RouteTable(routes: [
        route("exact-host", host: .exact("api.example.com"), path: .prefix("/users")),
        route("wildcard", host: .wildcard(domain: "example.com"), path: .prefix("/users")),
        route("deeper-wildcard", host: .wildcard(domain: "b.example.com")),
        route("any-users", path: .prefix("/users")),
        route("any-root"),
        route("health", path: .exact("/users/health")),
        route("slash-prefix", path: .prefix("/api/")),
        route("post-orders", path: .prefix("/orders"), methods: ["POST", "PUT"]),
        route("orders", path: .prefix("/orders")),
        route("v2", path: .prefix("/v"), headers: [ConfigHeaderField(name: "X-Version", value: "2")]),
        route("v-any", path: .prefix("/v")),
        route("ipv6-host", host: .exact("[::1]"), path: .exact("/ip")),
        route("exact-host-exact-path", host: .exact("api.example.com"), path: .exact("/users/me")),
        route("longer-prefix", path: .prefix("/users/admin")),
    ])

    @Test(
        arguments: [
            ("GET", "api.example.com", "/users/1", "exact-host"),
            ("GET", "API.Example.COM:8080", "/users", "exact-host"),
            ("GET", "api.example.com.", "/users", "exact-host"),
            ("GET", "api.example.com", "/users/me", "exact-host-exact-path"),
            ("GET", "x.example.com", "/users/1", "wildcard"),
            ("GET", "a.b.example.com", "/users", "deeper-wildcard"),
            ("GET", "deep.a.b.example.com", "/other", "deeper-wildcard"),
            ("GET", "a.c.example.com", "/users", "wildcard"),
            ("GET", "example.com", "/users", "any-users"),
            ("GET", "b.example.com", "/users", "wildcard"),
            ("GET", "b.example.com", "/x", "any-root"),
            ("GET", "api.example.com", "/other", "any-root"),
            ("GET", "x.example.com", "/other", "any-root"),
            ("GET", "notexample.com", "/users", "any-users"),
            ("GET", nil, "/users/health", "health"),
            ("GET", nil, "/users/health/x", "any-users"),
            ("GET", nil, "/users", "any-users"),
            ("GET", nil, "/users/", "any-users"),
            ("GET", nil, "/usersx", "any-root"),
            ("GET", nil, "/users/admin/x", "longer-prefix"),
            ("GET", nil, "/users/adminx", "any-users"),
            ("GET", "", "/users", "any-users"),
            ("GET", nil, "/api/", "slash-prefix"),
            ("GET", nil, "/api/v1", "slash-prefix"),
            ("GET", nil, "/api", "any-root"),
            ("POST", nil, "/orders/1", "post-orders"),
            ("PUT", nil, "/orders", "post-orders"),
            ("GET", nil, "/orders", "orders"),
            ("post", nil, "/orders", "orders"),
            ("GET", "[::1]:8080", "/ip", "ipv6-host"),
            ("GET", "[::1]", "/ip", "ipv6-host"),
            ("GET", "127.0.0.1", "/ip", "any-root"),
        ] as [(String, String?, String, String)])
    func picksTheRouteBySpecPrecedence(method: String, host: String?, path: String, expected: String) {
        let index = Self.table.match(method: method, host: host, path: path)
        #expect(index.map { Self.table.routes[$0].name } == expected)
    }

    @Test func matchesHeaderConditionsCaseInsensitivelyByName() {
        let table = Self.table
        #expect(
            table.match(method: "GET", host: nil, path: "/v", headers: [("x-version", "2")]).map(name) == "v2"
        )
        #expect(
            table.match(method: "GET", host: nil, path: "/v/1", headers: [("X-VERSION", "2")]).map(name)
                == "v2")
        #expect(
            table.match(method: "GET", host: nil, path: "/v", headers: [("X-Version", "3")]).map(name)
                == "v-any")
        #expect(
            table.match(method: "GET", host: nil, path: "/v", headers: [("X-Version", "2 ")]).map(name)
                == "v-any")
        #expect(table.match(method: "GET", host: nil, path: "/v").map(name) == "v-any")
    }

    @Test func breaksTiesByFileOrder() {
        let table = RouteTable(routes: [
            Self.route("first", path: .prefix("/orders")),
            Self.route("second", path: .prefix("/orders"), methods: ["POST"]),
            Self.route("third", path: .exact("/x"), methods: ["GET"]),
            Self.route("fourth", path: .exact("/x")),
        ])
        #expect(
            table.match(method: "POST", host: nil, path: "/orders").map { table.routes[$0].name } == "first")
        #expect(table.match(method: "GET", host: nil, path: "/x").map { table.routes[$0].name } == "third")
        #expect(table.match(method: "POST", host: nil, path: "/x").map { table.routes[$0].name } == "fourth")
    }

    @Test func returnsNilWhenNothingMatches() {
        let table = RouteTable(routes: [
            Self.route("api", host: .exact("api.example.com")),
            Self.route("get-only", path: .prefix("/get"), methods: ["GET"]),
        ])
        #expect(table.match(method: "GET", host: "other.example.com", path: "/") == nil)
        #expect(table.match(method: "GET", host: nil, path: "/") == nil)
        #expect(table.match(method: "POST", host: nil, path: "/get") == nil)
        #expect(
            table.match(method: "GET", host: nil, path: "/get").map { table.routes[$0].name } == "get-only")
    }

    @Test func fallsBackFromAHostTierWhoseRoutesDoNotMatch() {
        let table = RouteTable(routes: [
            Self.route("exact-post", host: .exact("a.example.com"), methods: ["POST"]),
            Self.route("wild-put", host: .wildcard(domain: "example.com"), methods: ["PUT"]),
            Self.route("any"),
        ])
        let name = { (method: String) in
            table.match(method: method, host: "a.example.com", path: "/").map { table.routes[$0].name }
        }
        #expect(name("POST") == "exact-post")
        #expect(name("PUT") == "wild-put")
        #expect(name("GET") == "any")
    }

    @Test func matchesOnRawBytes() {
        let method: [UInt8] = Array("GET".utf8)
        let host: [UInt8] = Array("Api.Example.com:443".utf8)
        let path: [UInt8] = Array("/users/7".utf8)
        let index = method.withUnsafeBytes { method in
            host.withUnsafeBytes { host in
                path.withUnsafeBytes { path in
                    Self.table.match(method: method, host: host, path: path) { _ in nil }
                }
            }
        }
        #expect(index.map(name) == "exact-host")
    }

    @Test func compilesRoutesLoadedFromAConfiguration() throws {
        let config = try ConfigFixtures.load(ConfigFixtures.full).get()
        let table = RouteTable(routes: config.routes)
        let users = table.match(
            method: "GET", host: "api.example.com", path: "/users/42", headers: [("X-Version", "2")])
        #expect(users == 0)
        #expect(table.forwardTarget(route: 0, path: "/users/42", query: "a=1") == "/42?a=1")
        #expect(table.match(method: "GET", host: "eu.shop.example.com", path: "/cart") == 1)
        #expect(table.match(method: "GET", host: nil, path: "/healthz") == 2)
        #expect(table.forwardTarget(route: 2, path: "/healthz") == "/healthz")
        #expect(table.rewrite(forRoute: 2) == nil)
        #expect(table.match(method: "GET", host: nil, path: "/users/42") == nil)
    }

    private func name(_ index: Int) -> String {
        Self.table.routes[index].name
    }
}
