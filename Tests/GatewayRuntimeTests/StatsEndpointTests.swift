import Gateway
import PorticoTesting
import Reactor
import Testing

@Suite(.serialized, .timeLimit(.minutes(1))) struct StatsEndpointTests {
    /// An upstream that answers with the status named by the last path segment.
    private func statusUpstream() throws -> FakeUpstream {
        try FakeUpstream { request, writer in
            let status = Int(request.path.split(separator: "/").last ?? "") ?? 200
            try writer.writeResponse(status: status, body: Array("s\(status)".utf8))
        }
    }

    private func sendKnownSequence(to gateway: GatewayHarness) throws {
        let client = try gateway.client()
        for path in ["/app/200", "/app/201", "/app/204", "/app/404", "/app/503", "/nowhere"] {
            _ = try client.request(path: path)
        }
    }

    private func gateway(_ upstream: FakeUpstream) throws -> GatewayHarness {
        try GatewayHarness(
            GatewayHarness.config(
                upstreams: [("backend", [upstream.address])],
                routes: """
                    [{"name":"app","match":{"pathPrefix":"/app"},"upstream":"backend"},
                     {"name":"idle","match":{"pathPrefix":"/idle"},"upstream":"backend"}]
                    """,
                admin: #"{"address":"127.0.0.1:0"}"#))
    }

    @Test func statsCountEveryRequestExactly() throws {
        let upstream = try statusUpstream()
        let gateway = try gateway(upstream)
        try sendKnownSequence(to: gateway)
        let stats = try gateway.adminClient().request(path: "/stats").json()
        #expect(stats["version"]?.stringValue == "0.1.0")
        #expect(stats["workers"]?.intValue == 1)
        #expect(stats["config"]?["generation"]?.intValue == 1)
        #expect(stats["config"]?["lastError"] == .null)
        #expect(stats["connections"]?["accepted"]?.intValue == 1)
        #expect(stats["requests"]?["total"]?.intValue == 6)
        #expect(stats["requests"]?["active"]?.intValue == 0)
        let app = try #require(stats["routes"]?["app"])
        #expect(app["requests"]?.intValue == 5)
        #expect(app["responses"]?["2xx"]?.intValue == 3)
        #expect(app["responses"]?["4xx"]?.intValue == 1)
        #expect(app["responses"]?["5xx"]?.intValue == 1)
        #expect(app["responses"]?["1xx"]?.intValue == 0)
        for key in ["p50", "p90", "p99", "max"] {
            #expect((app["latencyMs"]?[key]?.doubleValue ?? 0) > 0, "\(key)")
        }
        let idle = try #require(stats["routes"]?["idle"])
        #expect(idle["requests"]?.intValue == 0)
        #expect(idle["latencyMs"]?["max"]?.doubleValue == 0)
        let backend = try #require(stats["upstreams"]?["backend"])
        #expect(backend["requests"]?.intValue == 5)
        #expect(backend["failures"]?.intValue == 0)
        let server = try #require(backend["servers"]?[upstream.address])
        #expect(server["requests"]?.intValue == 5)
        #expect(server["healthy"]?.boolValue == true)
        #expect(server["circuit"]?.stringValue == "closed")
        #expect(server["idleConnections"]?.intValue == 1)
        #expect(server["activeConnections"]?.intValue == 0)
        #expect(server["activeRequests"]?.intValue == 0)
    }

    /// Every attempt counts, the retries of a refused connect included (the default policy
    /// retries a failed connect twice).
    @Test(arguments: [(nil as Int?, 3), (0, 1)])
    func connectFailuresCountAsAttemptsAndFailures(maxRetries: Int?, attempts: Int) throws {
        let closedPort = try ProcessRunner.freePort()
        let retries = maxRetries.map { #","retries":{"maxRetries":\#($0)}"# } ?? ""
        let gateway = try GatewayHarness(
            GatewayHarness.config(
                upstreams: [("down", ["127.0.0.1:\(closedPort)"])],
                routes: #"[{"name":"r","match":{"pathPrefix":"/"},"upstream":"down"\#(retries)}]"#,
                admin: #"{"address":"127.0.0.1:0"}"#))
        #expect(try TestClient.get(port: gateway.port, path: "/").status == 502)
        let stats = try gateway.adminClient().request(path: "/stats").json()
        #expect(stats["upstreams"]?["down"]?["requests"]?.intValue == attempts)
        #expect(stats["upstreams"]?["down"]?["failures"]?.intValue == attempts)
        #expect(stats["routes"]?["r"]?["responses"]?["5xx"]?.intValue == 1)
        #expect(stats["routes"]?["r"]?["retries"]?.intValue == attempts - 1)
    }

    @Test func countersSurviveAReloadThatKeepsTheNames() throws {
        let upstream = try statusUpstream()
        let gateway = try gateway(upstream)
        try sendKnownSequence(to: gateway)
        let outcome = try gateway.reload(
            GatewayHarness.config(
                upstreams: [("backend", [upstream.address])],
                routes:
                    #"[{"name":"app","match":{"pathPrefix":"/app"},"upstream":"backend","timeoutMs":5000}]"#,
                admin: #"{"address":"127.0.0.1:0"}"#))
        #expect(outcome.generation == 2)
        _ = try TestClient.get(port: gateway.port, path: "/app/200")
        let stats = try gateway.adminClient().request(path: "/stats").json()
        #expect(stats["config"]?["generation"]?.intValue == 2)
        #expect(stats["config"]?["reloads"]?["succeeded"]?.intValue == 1)
        #expect(stats["routes"]?["app"]?["requests"]?.intValue == 6)
        #expect(stats["routes"]?["idle"] == nil)
        #expect(stats["upstreams"]?["backend"]?["requests"]?.intValue == 6)
    }

    /// Replicas are compared by the file they run: `/stats` and `/metrics` show the SHA-256
    /// of its bytes (what `sha256sum` prints); a refused reload leaves it unchanged.
    @Test func configHashIsTheRunningFilesSHA256() throws {
        let upstream = try statusUpstream()
        let gateway = try gateway(upstream)
        func shown() throws -> String? {
            try gateway.adminClient().request(path: "/stats").json()["config"]?["sha256"]?.stringValue
        }
        let first = try #require(try shown())
        #expect(first == SHA256.hex(try FileIO.readFile(gateway.configFile.path)))
        let metrics = try PrometheusText(try gateway.adminClient().request(path: "/metrics").bodyString)
        #expect(metrics.value("portico_config_info", ["sha256": first]) == 1)
        let next = GatewayHarness.config(
            upstreams: [("backend", [upstream.address])],
            routes: #"[{"name":"app","match":{"pathPrefix":"/app"},"upstream":"backend"}]"#,
            admin: #"{"address":"127.0.0.1:0"}"#)
        #expect(try gateway.reload(next).generation == 2)
        #expect(try shown() == SHA256.hex(Array(next.utf8)))
        #expect(try gateway.reload(#"{"listeners":[],"routes":[]}"#).generation == nil)
        #expect(try shown() == SHA256.hex(Array(next.utf8)))
    }

    @Test func failedReloadIsCountedWithItsError() throws {
        let upstream = try statusUpstream()
        let gateway = try gateway(upstream)
        _ = try gateway.reload(#"{"listeners":[],"routes":[]}"#)
        let stats = try gateway.adminClient().request(path: "/stats").json()
        #expect(stats["config"]?["reloads"]?["failed"]?.intValue == 1)
        #expect(stats["config"]?["lastError"]?.stringValue?.contains("listeners") == true)
        #expect(stats["config"]?["generation"]?.intValue == 1)
    }

    @Test func metricsAreValidPrometheusTextWithTheSameNumbers() throws {
        let upstream = try statusUpstream()
        let gateway = try gateway(upstream)
        try sendKnownSequence(to: gateway)
        let response = try gateway.adminClient().request(path: "/metrics")
        #expect(response.status == 200)
        #expect(response.header("Content-Type")?.hasPrefix("text/plain; version=0.0.4") == true)
        let metrics = try PrometheusText(response.bodyString)
        #expect(metrics.value("portico_requests_total", ["route": "app", "code_class": "2xx"]) == 3)
        #expect(metrics.value("portico_requests_total", ["route": "app", "code_class": "5xx"]) == 1)
        #expect(metrics.value("portico_request_duration_seconds_count", ["route": "app"]) == 5)
        #expect(
            metrics.value("portico_request_duration_seconds_bucket", ["route": "app", "le": "+Inf"]) == 5)
        #expect(
            metrics.value(
                "portico_upstream_requests_total", ["upstream": "backend", "server": upstream.address]) == 5)
        #expect(metrics.value("portico_config_generation", [:]) == 1)
        #expect(metrics.value("portico_config_reloads_total", ["result": "success"]) == 0)
        #expect(metrics.value("portico_connections_active", [:]) != nil)
        #expect(
            metrics.value("portico_circuit_open", ["upstream": "backend", "server": upstream.address]) == 0)
        #expect(metrics.value("portico_rate_limited_total", ["route": "app"]) == 0)
        #expect(metrics.value("portico_retries_total", ["route": "app"]) == 0)
        #expect(metrics.types["portico_request_duration_seconds"] == "histogram")
        #expect(metrics.types["portico_requests_total"] == "counter")
        // Label values come from the configuration only: never a path or a client address.
        #expect(!response.bodyString.contains("/app/200"))
        #expect(!response.bodyString.contains("127.0.0.1\","))
    }
}

/// A small parser of the Prometheus text format (0.0.4): `# TYPE` lines and samples.
struct PrometheusText {
    struct Sample {
        var name: String
        var labels: [String: String]
        var value: Double
    }

    var samples: [Sample] = []
    var types: [String: String] = [:]

    struct ParseError: Error, CustomStringConvertible {
        let line: String
        var description: String { "unparsable metrics line: \(line)" }
    }

    init(_ text: String) throws {
        for raw in text.split(separator: "\n") {
            let line = String(raw)
            if line.hasPrefix("# TYPE ") {
                let parts = line.dropFirst(7).split(separator: " ")
                guard parts.count == 2 else { throw ParseError(line: line) }
                types[String(parts[0])] = String(parts[1])
                continue
            }
            if line.hasPrefix("#") { continue }
            samples.append(try Self.sample(line))
        }
    }

    private static func sample(_ line: String) throws -> Sample {
        var name = ""
        var labels: [String: String] = [:]
        var rest = Substring(line)
        if let brace = rest.firstIndex(of: "{") {
            name = String(rest[..<brace])
            rest = rest[rest.index(after: brace)...]
            while !rest.hasPrefix("}") {
                guard let equals = rest.firstIndex(of: "=") else { throw ParseError(line: line) }
                let key = String(rest[..<equals])
                rest = rest[rest.index(after: equals)...]
                guard rest.hasPrefix("\"") else { throw ParseError(line: line) }
                rest = rest.dropFirst()
                var value = ""
                while let character = rest.first, character != "\"" {
                    if character == "\\" {
                        rest = rest.dropFirst()
                        guard let escaped = rest.first else { throw ParseError(line: line) }
                        value.append(escaped == "n" ? "\n" : escaped)
                    } else {
                        value.append(character)
                    }
                    rest = rest.dropFirst()
                }
                guard rest.hasPrefix("\"") else { throw ParseError(line: line) }
                rest = rest.dropFirst()
                labels[key] = value
                if rest.hasPrefix(",") { rest = rest.dropFirst() }
            }
            rest = rest.dropFirst()
        } else {
            guard let space = rest.firstIndex(of: " ") else { throw ParseError(line: line) }
            name = String(rest[..<space])
            rest = rest[space...]
        }
        let valueText = rest.trimmingPrefix(" ")
        guard let value = Double(valueText.split(separator: " ").first ?? "") else {
            throw ParseError(line: line)
        }
        return Sample(name: name, labels: labels, value: value)
    }

    /// The value of the sample with exactly these labels.
    func value(_ name: String, _ labels: [String: String]) -> Double? {
        samples.first { $0.name == name && $0.labels == labels }?.value
    }
}
