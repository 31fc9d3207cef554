import PorticoTesting
import Testing

@Suite(.serialized, .timeLimit(.minutes(1))) struct AdminTests {
    private func gateway(token: String?, upstream: FakeUpstream) throws -> GatewayHarness {
        let tokenJSON = token.map { #","token":"\#($0)""# } ?? ""
        return try GatewayHarness(
            GatewayHarness.config(
                upstreams: [("users", [upstream.address])],
                routes: """
                    [{"name":"users-api","match":{"pathPrefix":"/users"},"upstream":"users","prefixRewrite":"/"},
                     {"name":"health","match":{"path":"/healthz"},"directResponse":{"status":200,"body":"ok"}}]
                    """,
                admin: #"{"address":"127.0.0.1:0"\#(tokenJSON)}"#))
    }

    @Test func probesAnswerWithoutToken() throws {
        let gateway = try gateway(token: "s3cret", upstream: try FakeUpstream(handler: .echo))
        let admin = try gateway.adminClient()
        let health = try admin.request(path: "/healthz")
        #expect(health.status == 200)
        #expect(health.jsonString("status") == "ok")
        #expect(try admin.request(path: "/ready").status == 200)
    }

    /// The dashboard loads without the token (it asks for one when /stats refuses it), is one
    /// self-contained page, and may load nothing from anywhere else.
    @Test func theDashboardIsOneSelfContainedPage() throws {
        let gateway = try gateway(token: "s3cret", upstream: try FakeUpstream(handler: .echo))
        let admin = try gateway.adminClient()
        let page = try admin.request(path: "/")
        #expect(page.status == 200)
        #expect(page.header("Content-Type") == "text/html; charset=utf-8")
        #expect(page.header("Content-Security-Policy")?.contains("default-src 'none'") == true)
        let html = page.bodyString
        #expect(html.hasPrefix("<!doctype html>"))
        #expect(html.contains("<title>Portico dashboard</title>"))
        #expect(html.contains(#"fetch("stats""#))
        // No external scripts, styles, fonts or images: nothing with a src or href at all.
        #expect(!html.contains("src="))
        #expect(!html.contains("href="))
        #expect(!html.contains("@import"))
        #expect(!html.contains("url("))
        #expect(try admin.request(method: "HEAD", path: "/").status == 200)
        #expect(try admin.request(method: "POST", path: "/").status == 405)
    }

    @Test func protectedEndpointsNeedTheBearerToken() throws {
        let gateway = try gateway(token: "s3cret", upstream: try FakeUpstream(handler: .echo))
        let admin = try gateway.adminClient()
        for path in ["/config", "/stats", "/metrics", "/route?path=/users"] {
            let refused = try admin.request(path: path)
            #expect(refused.status == 401, "\(path)")
            #expect(refused.jsonString("error") == "unauthorized")
            let wrong = try admin.request(path: path, headers: [("Authorization", "Bearer nope")])
            #expect(wrong.status == 401, "\(path)")
            let allowed = try admin.request(path: path, headers: [("Authorization", "Bearer s3cret")])
            #expect(allowed.status == 200, "\(path)")
        }
        #expect(try admin.request(method: "POST", path: "/reload").status == 401)
    }

    @Test func configIsRedactedAndCarriesTheGeneration() throws {
        let gateway = try gateway(token: "s3cret", upstream: try FakeUpstream(handler: .echo))
        let response = try gateway.adminClient().request(
            path: "/config", headers: [("Authorization", "Bearer s3cret")])
        #expect(!response.bodyString.contains("s3cret"))
        let json = try response.json()
        #expect(json["generation"]?.intValue == 1)
        #expect(json["admin"]?["token"]?.stringValue == "[redacted]")
        #expect(json["routes"]?[0]?["name"]?.stringValue == "users-api")
    }

    @Test func routeExplainsWhichRouteARequestTakes() throws {
        let gateway = try gateway(token: nil, upstream: try FakeUpstream(handler: .echo))
        let admin = try gateway.adminClient()
        let users = try admin.request(path: "/route?method=GET&path=%2Fusers%2F42%3Fx%3D1").json()
        #expect(users["route"]?.stringValue == "users-api")
        #expect(users["upstream"]?.stringValue == "users")
        #expect(users["forwardPath"]?.stringValue == "/42?x=1")
        let health = try admin.request(path: "/route?path=/healthz").json()
        #expect(health["route"]?.stringValue == "health")
        #expect(health["forwardPath"] == .null)
        let none = try admin.request(path: "/route?path=/nothing")
        #expect(none.status == 404)
        #expect(try none.json()["route"] == .null)
    }

    @Test func unknownPathsAndMethodsAreJSONErrors() throws {
        let gateway = try gateway(token: nil, upstream: try FakeUpstream(handler: .echo))
        let admin = try gateway.adminClient()
        let missing = try admin.request(path: "/nope")
        #expect(missing.status == 404)
        #expect(missing.jsonString("error") == "not_found")
        let wrongMethod = try admin.request(method: "DELETE", path: "/stats")
        #expect(wrongMethod.status == 405)
        #expect(wrongMethod.jsonString("error") == "method_not_allowed")
        #expect(try admin.request(path: "/reload").status == 405)
    }

    @Test func postReloadReportsChangesOrErrors() throws {
        let upstream = try FakeUpstream(handler: .echo)
        let gateway = try gateway(token: nil, upstream: upstream)
        let admin = try gateway.adminClient()
        try gateway.configFile.write(
            GatewayHarness.config(
                upstreams: [("users", [upstream.address])],
                routes: #"[{"name":"orders","match":{"pathPrefix":"/orders"},"upstream":"users"}]"#,
                admin: #"{"address":"127.0.0.1:0"}"#))
        let reloaded = try admin.request(method: "POST", path: "/reload")
        #expect(reloaded.status == 200)
        let json = try reloaded.json()
        #expect(json["generation"]?.intValue == 2)
        let changes = json["changes"]?.arrayValue?.compactMap(\.stringValue) ?? []
        #expect(changes.contains("route added: orders"))
        #expect(changes.contains("route removed: users-api"))
        #expect(try TestClient.get(port: gateway.port, path: "/orders/1").status == 200)

        try gateway.configFile.write(#"{"listeners":[]"#)
        let refused = try admin.request(method: "POST", path: "/reload")
        #expect(refused.status == 400)
        #expect((try refused.json()["errors"]?.arrayValue?.count ?? 0) >= 1)
        #expect(try TestClient.get(port: gateway.port, path: "/orders/1").status == 200)
    }
}
