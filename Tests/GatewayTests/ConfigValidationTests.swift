import Gateway
import Testing

@Suite struct ConfigValidationTests {
    typealias Case = (json: String, errors: [String])
    static let fixtures = ConfigFixtures.self

    /// A configuration whose users upstream has `fields` besides its one server.
    static func users(_ fields: String) -> String {
        fixtures.json(upstreams: #"{"users": {"servers": [{"address": "127.0.0.1:9001"}]\#(fields)}}"#)
    }

    /// A configuration whose only route is `a` to users, with `fields`.
    static func route(_ fields: String) -> String {
        fixtures.json(routes: #"[{"name": "a", "upstream": "users"\#(fields)}]"#)
    }

    static let structureCases: [Case] = [
        ("[]", ["expected a JSON object at the top level"]),
        ("{\"listeners\": [}", ["line 1 column 16: expected a value, found '}'"]),
        (
            #"{"upstreams": {}, "routes": [{"name": "a", "directResponse": {}}]}"#,
            ["listeners: missing required key"]
        ),
        (fixtures.json(listeners: "[]"), ["listeners: must not be empty"]),
        (fixtures.json(listeners: "{}"), ["listeners: expected an array"]),
        (#"{"listeners": [{"address": "127.0.0.1:80"}]}"#, ["routes: missing required key"]),
        (fixtures.json(routes: "[]"), ["routes: must not be empty"]),
        (fixtures.json(extra: #", "listenerz": []"#), ["listenerz: unknown key"]),
        (fixtures.json(extra: #", "$schema": "x""#), []),
        (fixtures.json(extra: #", "workers": 1, "workers": 2"#), ["workers: duplicate key"]),
        (fixtures.json(extra: #", "workers": -1"#), ["workers: expected a non-negative integer"]),
        (fixtures.json(extra: #", "workers": 2000"#), ["workers: must be at most 1024"]),
    ]

    static let listenerCases: [Case] = [
        (fixtures.json(listeners: #"[{"name": "a"}]"#), ["listeners[0].address: missing required key"]),
        (fixtures.json(listeners: "[42]"), ["listeners[0]: expected an object"]),
        (
            fixtures.json(listeners: #"[{"address": "nonsense"}]"#),
            [#"listeners[0].address: invalid address "nonsense": expected host:port"#]
        ),
        (
            fixtures.json(listeners: #"[{"address": "foo:8080"}]"#),
            [#"listeners[0].address: cannot resolve host "foo""#]
        ),
        (
            fixtures.json(listeners: #"[{"address": "127.0.0.1:99999"}]"#),
            [
                #"listeners[0].address: invalid address "127.0.0.1:99999": port must be a number from 0"#
                    + #" to 65535"#
            ]
        ),
        (fixtures.json(listeners: #"[{"address": 8080}]"#), ["listeners[0].address: expected a string"]),
        (
            fixtures.json(listeners: #"[{"address": "127.0.0.1:80"}, {"address": "localhost:80"}]"#),
            ["listeners[1].address: same address as listeners[0]"]
        ),
        (
            fixtures.json(
                listeners:
                    #"[{"address": "127.0.0.1:80", "name": "a"}, {"address": "127.0.0.1:81", "name": "a"}]"#),
            ["listeners[1].name: same name as listeners[0]"]
        ),
        (
            fixtures.json(listeners: #"[{"address": "127.0.0.1:80", "trustedProxies": ["10.0.0.0/33", 7]}]"#),
            [
                #"listeners[0].trustedProxies[0]: invalid CIDR "10.0.0.0/33""#,
                "listeners[0].trustedProxies[1]: expected a string",
            ]
        ),
        (
            fixtures.json(listeners: #"[{"address": "127.0.0.1:80", "adress": "x"}]"#),
            ["listeners[0].adress: unknown key"]
        ),
    ]

    static let adminCases: [Case] = [
        (
            fixtures.json(extra: #", "admin": {"address": "0.0.0.0:9901"}"#),
            ["admin.token: required when the admin address is not loopback"]
        ),
        (
            fixtures.json(extra: #", "admin": {"address": "0.0.0.0:9901", "token": null}"#),
            ["admin.token: required when the admin address is not loopback"]
        ),
        (fixtures.json(extra: #", "admin": {"address": "[::1]:9901"}"#), []),
        (fixtures.json(extra: #", "admin": {"token": ""}"#), ["admin.token: must not be empty"]),
        (
            fixtures.json(extra: #", "admin": {"address": "127.0.0.1:8080"}"#),
            ["admin.address: same address as listeners[0]"]
        ),
        (
            fixtures.json(extra: #", "admin": {"address": "bad"}"#),
            [#"admin.address: invalid address "bad": expected host:port"#]
        ),
    ]

    static let limitCases: [Case] = [
        (
            fixtures.json(extra: #", "limits": {"maxConnections": "10"}"#),
            ["limits.maxConnections: expected a non-negative integer"]
        ),
        (
            fixtures.json(extra: #", "limits": {"maxConnections": 1.5}"#),
            ["limits.maxConnections: expected a non-negative integer"]
        ),
        (
            fixtures.json(extra: #", "limits": {"maxConnections": 0}"#),
            ["limits.maxConnections: must be at least 1"]
        ),
        (
            fixtures.json(extra: #", "limits": {"maxRequestBodyBytes": -1}"#),
            ["limits.maxRequestBodyBytes: expected a non-negative integer"]
        ),
        (fixtures.json(extra: #", "limits": {"maxRequestBodyBytes": 0}"#), []),
        (
            fixtures.json(extra: #", "timeouts": {"idleMs": -5}"#),
            ["timeouts.idleMs: expected a non-negative integer"]
        ),
        (
            fixtures.json(extra: #", "timeouts": {"requestHeaderMs": 0}"#),
            ["timeouts.requestHeaderMs: must be at least 1"]
        ),
        (
            fixtures.json(extra: #", "timeouts": {"idleMs": 0}"#),
            ["timeouts.idleMs: must be at least 1"]
        ),
        (fixtures.json(extra: #", "timeouts": {"idleMs": 1e3}"#), []),
        (fixtures.json(extra: #", "timeouts": {"idle": 5}"#), ["timeouts.idle: unknown key"]),
        (fixtures.json(extra: #", "accessLog": {"path": ""}"#), ["accessLog.path: must not be empty"]),
        (fixtures.json(extra: #", "accessLog": "stdout""#), ["accessLog: expected an object"]),
    ]

    static let upstreamCases: [Case] = [
        (fixtures.json(upstreams: #"{"users": {}}"#), ["upstreams.users.servers: missing required key"]),
        (
            fixtures.json(upstreams: #"{"users": {"servers": []}}"#),
            ["upstreams.users.servers: must not be empty"]
        ),
        (
            fixtures.json(
                upstreams: #"{"users": {"servers": [{"address": "127.0.0.1:9001", "weight": 0}]}}"#),
            ["upstreams.users.servers[0].weight: must be at least 1"]
        ),
        (
            fixtures.json(
                upstreams: #"{"users": {"servers": [{"address": "127.0.0.1:9001", "weight": -2}]}}"#),
            ["upstreams.users.servers[0].weight: expected a non-negative integer"]
        ),
        (
            fixtures.json(
                upstreams: #"{"users": {"servers": [{"address": "127.0.0.1:9001", "weight": 2000000}]}}"#),
            ["upstreams.users.servers[0].weight: must be at most 1000000"]
        ),
        (
            fixtures.json(upstreams: #"{"users": {"servers": [{"address": "127.0.0.1:0"}]}}"#),
            [
                #"upstreams.users.servers[0].address: invalid address "127.0.0.1:0": port must be a"#
                    + #" number from 1 to 65535"#
            ]
        ),
        (
            fixtures.json(
                upstreams:
                    #"{"users": {"servers": [{"address": "127.0.0.1:9001"}, {"address": "localhost:9001"}]}}"#
            ),
            ["upstreams.users.servers[1].address: same address as upstreams.users.servers[0]"]
        ),
        (
            users(#", "balance": "rr""#),
            [
                #"upstreams.users.balance: unknown value "rr" (expected round_robin, least_request,"#
                    + #" random or consistent_hash)"#
            ]
        ),
        (
            users(#", "hashOn": "path""#),
            [#"upstreams.users.hashOn: only allowed with "balance": "consistent_hash""#]
        ),
        (
            users(#", "balance": "random", "hashOn": "path""#),
            [#"upstreams.users.hashOn: only allowed with "balance": "consistent_hash""#]
        ),
        (
            users(#", "balance": "consistent_hash", "hashOn": "cookie""#),
            [#"upstreams.users.hashOn: unknown value "cookie" (expected client_ip, path or header:<Name>)"#]
        ),
        (
            users(#", "balance": "consistent_hash", "hashOn": "header:""#),
            [#"upstreams.users.hashOn: unknown value "header:" (expected client_ip, path or header:<Name>)"#]
        ),
        (
            users(#", "connectTimeoutMs": 0"#),
            ["upstreams.users.connectTimeoutMs: must be at least 1"]
        ),
        (
            users(#", "pool": {"maxIdle": 1}"#),
            ["upstreams.users.pool.maxIdle: unknown key"]
        ),
        (
            users(#", "healthCheck": {"path": "healthz"}"#),
            ["upstreams.users.healthCheck.path: must start with '/'"]
        ),
        (
            users(#", "circuitBreaker": {"failureThreshold": 0}"#),
            ["upstreams.users.circuitBreaker.failureThreshold: must be at least 1"]
        ),
        (
            fixtures.json(upstreams: #"{"us ers": {"servers": [{"address": "127.0.0.1:9001"}]}}"#),
            [
                "upstreams.us ers: invalid upstream name: must be 1 to 128 letters, digits, '-', '_' or '.'",
                #"routes[0].upstream: unknown upstream "users""#,
            ]
        ),
        (
            fixtures.json(upstreams: "[]"),
            ["upstreams: expected an object", #"routes[0].upstream: unknown upstream "users""#]
        ),
    ]

    static let routeCases: [Case] = [
        (fixtures.json(routes: #"[{"upstream": "users"}]"#), ["routes[0].name: missing required key"]),
        (
            fixtures.json(routes: #"[{"name": null, "upstream": "users"}]"#),
            ["routes[0].name: expected a string"]
        ),
        (
            fixtures.json(routes: #"[{"name": "a b", "upstream": "users"}]"#),
            ["routes[0].name: must be 1 to 128 letters, digits, '-', '_' or '.'"]
        ),
        (
            fixtures.json(
                routes:
                    #"[{"name": "a", "upstream": "users"}, {"name": "a", "upstream": "users", "match":"#
                    + #" {"path": "/x"}}]"#
            ),
            ["routes[1].name: same name as routes[0]"]
        ),
        (
            fixtures.json(routes: #"[{"name": "a", "upstream": "userz"}]"#),
            [#"routes[0].upstream: unknown upstream "userz""#]
        ),
        (
            route(#", "directResponse": {}"#),
            ["routes[0]: set either upstream or directResponse, not both"]
        ),
        (fixtures.json(routes: #"[{"name": "a"}]"#), ["routes[0]: missing upstream or directResponse"]),
        (
            route(#", "matchh": {}"#),
            ["routes[0].matchh: unknown key"]
        ),
        (
            fixtures.json(
                routes:
                    #"[{"name": "a", "upstream": "users"}, {"name": "b", "upstream": "users", "match": "/"}]"#
            ),
            ["routes[1].match: expected an object"]
        ),
        (
            fixtures.json(routes: #"[{"name": "a", "name": "b", "upstream": "users"}]"#),
            ["routes[0].name: duplicate key"]
        ),
        (
            route(#", "match": {"path": "/a", "pathPrefix": "/a"}"#),
            ["routes[0].match: set either path or pathPrefix, not both"]
        ),
        (
            route(#", "match": {"pathPrefix": "users"}"#),
            ["routes[0].match.pathPrefix: must start with '/'"]
        ),
        (
            route(#", "match": {"path": "users"}"#),
            ["routes[0].match.path: must start with '/'"]
        ),
        (
            route(#", "match": {"path": "/a?b=1"}"#),
            ["routes[0].match.path: must not contain '?' or '#'"]
        ),
        (
            route(#", "match": {"pathPrefix": "/a/../b"}"#),
            ["routes[0].match.pathPrefix: must not contain '.' or '..' segments"]
        ),
        (
            route(#", "match": {"host": "api.example.com:80"}"#),
            [
                #"routes[0].match.host: invalid host "api.example.com:80": expected a host name (without"#
                    + #" a port), *.domain or [IPv6]"#
            ]
        ),
        (
            route(#", "match": {"host": "api.*.com"}"#),
            [#"routes[0].match.host: invalid host "api.*.com": expected a host name, *.domain or [IPv6]"#]
        ),
        (
            route(#", "match": {"methods": []}"#),
            ["routes[0].match.methods: must not be empty"]
        ),
        (
            route(#", "match": {"methods": ["get", "P OST"]}"#),
            [
                #"routes[0].match.methods[0]: unknown method "get" (methods are case-sensitive: "GET")"#,
                #"routes[0].match.methods[1]: invalid method "P OST""#,
            ]
        ),
        (
            route(#", "match": {"headers": {"X-A": "1", "x-a": "2"}}"#),
            ["routes[0].match.headers.x-a: same field as routes[0].match.headers.X-A"]
        ),
        (
            route(#", "match": {"headers": {"X A": 1}}"#),
            [
                "routes[0].match.headers.X A: invalid header name",
                "routes[0].match.headers.X A: expected a string",
            ]
        ),
        (
            route(#", "prefixRewrite": "v2""#),
            ["routes[0].prefixRewrite: must start with '/'"]
        ),
        (
            route(#", "hostRewrite": "a/b""#),
            [#"routes[0].hostRewrite: invalid host "a/b": expected host[:port]"#]
        ),
        (
            route(#", "prefixRewrite": "/", "redirectRewrite": "no""#),
            ["routes[0].redirectRewrite: expected true or false"]
        ),
        (
            route(#", "redirectRewrite": null"#),
            []
        ),
        (
            route(#", "timeoutMs": -1"#),
            ["routes[0].timeoutMs: expected a non-negative integer"]
        ),
    ]

    static let duplicateMatchCases: [Case] = [
        (
            fixtures.json(
                routes: #"""
                    [{"name": "a", "match": {"pathPrefix": "/a"}, "upstream": "users"},
                     {"name": "b", "match": {"methods": ["GET", "POST"], "headers": {"X-A": "1"}},
                      "upstream": "users"},
                     {"name": "c", "match": {"path": "/c"}, "upstream": "users"},
                     {"name": "d", "match": {"pathPrefix": "/", "methods": ["POST", "GET", "POST"],
                                             "headers": {"x-a": "1"}},
                      "upstream": "users"}]
                    """#),
            ["routes[3].match: same match as routes[1]"]
        ),
        (
            fixtures.json(
                routes: #"""
                    [{"name": "a", "upstream": "users"},
                     {"name": "b", "match": {"pathPrefix": "/"}, "directResponse": {"status": 404}}]
                    """#),
            ["routes[1].match: same match as routes[0]"]
        ),
        (
            fixtures.json(
                routes: #"""
                    [{"name": "a", "match": {"host": "API.example.com", "path": "/x"}, "upstream": "users"},
                     {"name": "b", "match": {"host": "api.EXAMPLE.com", "path": "/x"}, "upstream": "users"},
                     {"name": "c", "match": {"host": "api.example.com", "pathPrefix": "/x"},
                      "upstream": "users"},
                     {"name": "d", "match": {"host": "*.example.com", "path": "/x"}, "upstream": "users"}]
                    """#),
            ["routes[1].match: same match as routes[0]"]
        ),
    ]

    static let policyCases: [Case] = [
        (
            route(#", "retries": {"retryOn": ["reset", "5xxx"]}"#),
            [
                #"routes[0].retries.retryOn[1]: unknown value "5xxx" (expected connect_failure, reset,"#
                    + #" 5xx, gateway_error, per_try_timeout or retriable_status)"#
            ]
        ),
        (
            route(#", "retries": {"retryOn": ["retriable_status"]}"#),
            [
                #"routes[0].retries.retriableStatusCodes: must not be empty when retryOn has"#
                    + #" "retriable_status""#
            ]
        ),
        (
            route(#", "retries": {"retryOn": ["per_try_timeout"]}"#),
            [#"routes[0].retries.perTryTimeoutMs: must be greater than 0 when retryOn has "per_try_timeout""#]
        ),
        (
            route(#", "retries": {"retriableStatusCodes": [503, 99]}"#),
            ["routes[0].retries.retriableStatusCodes[1]: expected a status code from 100 to 599"]
        ),
        (
            route(#", "retries": {"backoff": {"baseMs": -1}, "budgetPercent": -3}"#),
            [
                "routes[0].retries.backoff.baseMs: expected a non-negative integer",
                "routes[0].retries.budgetPercent: must not be negative",
            ]
        ),
        (
            route(#", "retries": {"retryNonIdempotent": "yes"}"#),
            ["routes[0].retries.retryNonIdempotent: expected true or false"]
        ),
        (
            route(#", "rateLimit": {"requestsPerSecond": 0}"#),
            ["routes[0].rateLimit.requestsPerSecond: must be greater than 0"]
        ),
        (
            route(#", "rateLimit": {"requestsPerSecond": -1}"#),
            ["routes[0].rateLimit.requestsPerSecond: must be greater than 0"]
        ),
        (
            route(#", "rateLimit": {"requestsPerSecond": 1e300}"#),
            ["routes[0].rateLimit.requestsPerSecond: must be at most 1000000000"]
        ),
        (
            route(#", "rateLimit": {"requestsPerSecond": 0.0001}"#),
            ["routes[0].rateLimit.requestsPerSecond: must be at least 0.001"]
        ),
        (
            route(#", "rateLimit": {"burst": 0}"#),
            ["routes[0].rateLimit.burst: must be at least 1"]
        ),
        (
            route(#", "rateLimit": {"key": "ip"}"#),
            [#"routes[0].rateLimit.key: unknown value "ip" (expected client_ip, global or header:<Name>)"#]
        ),
        (
            route(#", "requestHeaders": {"set": {"Content-Length": "5"}, "remove": ["Host"]}"#),
            [
                "routes[0].requestHeaders.set.Content-Length: cannot set Content-Length: the gateway"
                    + " manages framing and hop-by-hop fields",
                "routes[0].requestHeaders.remove[0]: cannot remove Host: use hostRewrite",
            ]
        ),
        (
            route(#", "responseHeaders": {"set": {"X-A": "a\nb"}, "remove": ["Connection"]}"#),
            [
                "routes[0].responseHeaders.set.X-A: invalid header value",
                "routes[0].responseHeaders.remove[0]: cannot remove Connection: the gateway manages"
                    + " framing and hop-by-hop fields",
            ]
        ),
        (
            fixtures.json(routes: #"[{"name": "a", "directResponse": {"status": 700}}]"#),
            ["routes[0].directResponse.status: expected a status code from 200 to 599"]
        ),
        (
            fixtures.json(routes: #"[{"name": "a", "directResponse": {"status": 204, "body": "x"}}]"#),
            ["routes[0].directResponse.body: must be empty for status 204"]
        ),
        (
            fixtures.json(routes: #"[{"name": "a", "directResponse": {"code": 200}}]"#),
            ["routes[0].directResponse.code: unknown key"]
        ),
    ]

    @Test(arguments: structureCases + listenerCases + adminCases + limitCases)
    func reportsExactErrorsForTopLevelSections(json: String, errors: [String]) {
        #expect(ConfigFixtures.errors(json) == errors)
    }

    @Test(arguments: upstreamCases)
    func reportsExactErrorsForUpstreams(json: String, errors: [String]) {
        #expect(ConfigFixtures.errors(json) == errors)
    }

    @Test(arguments: routeCases + duplicateMatchCases + policyCases)
    func reportsExactErrorsForRoutes(json: String, errors: [String]) {
        #expect(ConfigFixtures.errors(json) == errors)
    }

    @Test func reportsEveryProblemAtOnceInFileOrder() {
        let text = #"""
            {
              "routes": [
                {"name": "a", "upstream": "userz", "matchh": {}},
                {"name": "a", "match": {"path": "x"}}
              ],
              "listeners": [],
              "upstreams": {
                "users": {"servers": [{"address": "127.0.0.1:9001", "weight": 0}], "balance": "fastest"}
              },
              "limits": {"maxConnections": -1},
              "admin": {"address": "0.0.0.0:9901"}
            }
            """#
        #expect(
            ConfigFixtures.errors(text) == [
                #"routes[0].upstream: unknown upstream "userz""#,
                "routes[0].matchh: unknown key",
                "routes[1].name: same name as routes[0]",
                "routes[1].match.path: must start with '/'",
                "routes[1]: missing upstream or directResponse",
                "listeners: must not be empty",
                "upstreams.users.servers[0].weight: must be at least 1",
                #"upstreams.users.balance: unknown value "fastest" (expected round_robin, least_request,"#
                    + #" random or consistent_hash)"#,
                "limits.maxConnections: expected a non-negative integer",
                "admin.token: required when the admin address is not loopback",
            ])
    }

    @Test func formatsErrorsAsPathColonMessage() {
        let error = ConfigError(path: "routes[2].upstream", message: #"unknown upstream "userz""#)
        #expect(error.description == #"routes[2].upstream: unknown upstream "userz""#)
        #expect(ConfigError(path: "", message: "line 1 column 1: x").description == "line 1 column 1: x")
    }
}
