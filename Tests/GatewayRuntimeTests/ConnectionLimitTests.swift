import PorticoTesting
import Testing

@Suite(.serialized, .timeLimit(.minutes(1))) struct ConnectionLimitTests {
    @Test func connectionsBeyondTheLimitAreClosedAndCounted() throws {
        let upstream = try FakeUpstream(handler: .echo)
        let gateway = try GatewayHarness(
            GatewayHarness.config(
                upstreams: [("app", [upstream.address])],
                routes: #"[{"name":"app","match":{"pathPrefix":"/"},"upstream":"app"}]"#,
                limits: #"{"maxConnections":1}"#, admin: #"{"address":"127.0.0.1:0"}"#))
        let first = try gateway.client()
        #expect(try first.request(path: "/").status == 200)
        let second = try gateway.client()
        #expect(second.isClosedByPeer())
        // Admin connections do not count toward the limit.
        let stats = try gateway.adminClient().request(path: "/stats").json()
        #expect(stats["connections"]?["rejected"]?.intValue == 1)
        #expect(stats["connections"]?["active"]?.intValue == 1)
        first.close()
        try waitUntil("the slot frees up") {
            (try? TestClient.get(port: gateway.port, path: "/").status) == 200
        }
    }

    @Test func slowRequestBodyIsCutOffWithRequestTimeout() throws {
        let upstream = try FakeUpstream(handler: .echo)
        let gateway = try GatewayHarness.simple(upstream, timeouts: #"{"idleMs":200}"#)
        let client = try gateway.client()
        try client.send("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nhalf!")
        let response = try client.readResponse()
        #expect(response.status == 408)
        #expect(response.jsonString("error") == "request_timeout")
        #expect(client.isClosedByPeer())
    }

    @Test func noContentAndNotModifiedCarryNoBody() throws {
        let upstream = try FakeUpstream { request, writer in
            try writer.writeResponse(
                status: request.path == "/204" ? 204 : 304, headers: [("ETag", "\"v1\"")])
        }
        let gateway = try GatewayHarness.simple(upstream)
        let client = try gateway.client()
        let noContent = try client.request(path: "/204")
        #expect(noContent.status == 204)
        #expect(noContent.body.isEmpty)
        let notModified = try client.request(path: "/304")
        #expect(notModified.status == 304)
        #expect(notModified.header("ETag") == "\"v1\"")
        #expect(try client.request(path: "/204").status == 204)
    }

    @Test func http10KeepAliveIsHonouredWhenAskedFor() throws {
        let upstream = try FakeUpstream(handler: .status(200, body: "hi"))
        let gateway = try GatewayHarness.simple(upstream)
        let client = try gateway.client()
        try client.send("GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        let first = try client.readResponse()
        #expect(first.status == 200)
        #expect(first.header("Connection")?.lowercased() == "keep-alive")
        try client.send("GET /b HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        #expect(try client.readResponse().bodyString == "hi")
    }
}
