import Gateway

/// Shared inputs for the configuration tests.
enum ConfigFixtures {
    static let resolve: HostResolver = { name in
        name == "localhost" ? .v4(0x7F00_0001) : nil
    }

    /// The full example of docs/configuration.md as strict JSON, plus a second listener, a consistent-hash
    /// upstream and a host name.
    static let full = #"""
        {
          "$schema": "https://example.com/portico.schema.json",
          "workers": 2,
          "listeners": [
            { "name": "http", "address": "0.0.0.0:8080", "trustedProxies": ["10.0.0.0/8", "::1"] },
            { "address": "[::1]:8081" }
          ],
          "admin": { "address": "127.0.0.1:9901", "token": "s3cret-token" },
          "limits": {
            "maxConnections": 5000, "maxRequestHeaderBytes": 8192,
            "maxRequestBodyBytes": 0, "maxResponseHeaderBytes": 65536
          },
          "timeouts": { "requestHeaderMs": 5000, "idleMs": 30000, "drainMs": 1000 },
          "accessLog": { "path": "/var/log/portico/access.log" },
          "upstreams": {
            "users": {
              "servers": [
                { "address": "127.0.0.1:9001", "weight": 3 },
                { "address": "localhost:9002" }
              ],
              "balance": "round_robin",
              "connectTimeoutMs": 500,
              "pool": {
                "maxConnectionsPerServer": 64, "maxIdlePerServer": 8, "idleTimeoutMs": 10000, "maxPending": 10
              },
              "healthCheck": {
                "path": "/status", "intervalMs": 2000, "timeoutMs": 300,
                "unhealthyThreshold": 4, "healthyThreshold": 1
              },
              "circuitBreaker": { "failureThreshold": 7, "openMs": 3000, "halfOpenMaxRequests": 2 }
            },
            "carts": {
              "servers": [ { "address": "[::1]:9003" } ],
              "balance": "consistent_hash",
              "hashOn": "header:X-User"
            }
          },
          "routes": [
            {
              "name": "users-api",
              "match": {
                "host": "API.example.com",
                "pathPrefix": "/users",
                "methods": ["GET", "POST", "GET"],
                "headers": { "X-Version": "2" }
              },
              "upstream": "users",
              "prefixRewrite": "/",
              "hostRewrite": "users.internal:8080",
              "redirectRewrite": false,
              "timeoutMs": 0,
              "retries": {
                "maxRetries": 3,
                "retryOn": ["connect_failure", "5xx", "retriable_status", "per_try_timeout"],
                "retriableStatusCodes": [409, 429],
                "perTryTimeoutMs": 2000,
                "backoff": { "baseMs": 10, "maxMs": 100 },
                "budgetPercent": 12.5,
                "retryNonIdempotent": true
              },
              "rateLimit": { "requestsPerSecond": 0.5, "key": "header:X-Api-Key", "dryRun": true },
              "requestHeaders": { "set": { "X-Env": "prod" }, "remove": ["X-Debug"] },
              "responseHeaders": { "set": {}, "remove": [] }
            },
            {
              "name": "carts",
              "match": { "host": "*.shop.example.com", "path": "/cart" },
              "upstream": "carts",
              "rateLimit": { "requestsPerSecond": 100, "burst": 20, "key": "global" }
            },
            {
              "name": "health",
              "match": { "path": "/healthz" },
              "directResponse": { "status": 200, "body": "ok", "contentType": "text/plain" }
            }
          ]
        }
        """#

    /// The smallest valid configuration.
    static let minimal = #"""
        {
          "listeners": [ { "address": "127.0.0.1:8080" } ],
          "upstreams": { "users": { "servers": [ { "address": "127.0.0.1:9001" } ] } },
          "routes": [ { "name": "all", "upstream": "users" } ]
        }
        """#

    /// A configuration with the given sections (JSON text) and otherwise the minimal one's.
    static func json(
        listeners: String = #"[{"address": "127.0.0.1:8080"}]"#,
        upstreams: String = #"{"users": {"servers": [{"address": "127.0.0.1:9001"}]}}"#,
        routes: String = #"[{"name": "all", "upstream": "users"}]"#,
        extra: String = ""
    ) -> String {
        #"{"listeners": \#(listeners), "upstreams": \#(upstreams), "routes": \#(routes)\#(extra)}"#
    }

    static func load(_ text: String) -> Result<GatewayConfig, ConfigErrors> {
        ConfigLoader.load(json: Array(text.utf8), resolve: resolve)
    }

    /// The error lines for `text`, or an empty list when it is valid.
    static func errors(_ text: String) -> [String] {
        switch load(text) {
        case .success:
            return []
        case .failure(let errors):
            return errors.errors.map(\.description)
        }
    }
}
