import Gateway
import PorticoTesting
import Testing

@testable import GatewayRuntime

/// A real gateway, in process, on an ephemeral loopback port, with the access log off.
final class GatewayHarness {
    let server: GatewayServer
    let port: UInt16
    /// The configuration file, which `reload()` reads again.
    let configFile: TempConfig

    /// Starts a gateway from a configuration JSON; its listener must be named "http" and
    /// bound to 127.0.0.1:0.
    init(_ json: String, accessLogQueueBytes: Int = 4 << 20) throws {
        configFile = try TempConfig(json)
        server = try GatewayServer(
            config: try GatewayHarness.load(json), configPath: configFile.path, log: ProcessLog(fd: 2),
            accessLogQueueBytes: accessLogQueueBytes)
        try server.start()
        guard let bound = server.port(ofListener: "http") else {
            throw HarnessError(message: "no http listener")
        }
        port = bound
    }

    deinit { server.stopNow() }

    /// The configuration `json` describes; throws every problem.
    static func load(_ json: String) throws -> GatewayConfig {
        switch ConfigLoader.load(json: Array(json.utf8), resolve: SystemResolver.resolve) {
        case .success(let config): return config
        case .failure(let problems):
            throw HarnessError(message: problems.errors.map(\.description).joined(separator: "\n"))
        }
    }

    func client() throws -> TestClient { try TestClient(port: port) }

    /// Writes `json` as the configuration file and reloads it.
    func reload(_ json: String) throws -> GatewayServer.ReloadOutcome {
        try configFile.write(json)
        return server.reload()
    }

    func adminClient() throws -> TestClient {
        try TestClient(port: try #require(server.adminPort))
    }

    /// A configuration with one listener, the given upstreams ("name": [addresses]) and routes JSON.
    static func config(
        upstreams: [(String, [String])], routes: String, limits: String = "{}", timeouts: String = "{}",
        upstreamExtra: String = "", listenerExtra: String = "", accessLog: String = #"{"path":"off"}"#,
        admin: String? = nil, listeners: String? = nil, workers: Int = 1
    ) -> String {
        let upstreamJSON = upstreams.map { name, servers in
            let list = servers.map { #"{"address":"\#($0)"}"# }.joined(separator: ",")
            return #""\#(name)":{"servers":[\#(list)]\#(upstreamExtra)}"#
        }.joined(separator: ",")
        return """
            {"workers":\(workers),"listeners":\(listeners ?? #"[{"name":"http","address":"127.0.0.1:0"\#(listenerExtra)}]"#),
             \(admin.map { #""admin":\#($0),"# } ?? "")"accessLog":\(accessLog),"limits":\(limits),"timeouts":\(timeouts),
             "upstreams":{\(upstreamJSON)},"routes":\(routes)}
            """
    }

    /// The usual set-up: everything under "/" goes to one upstream "app".
    static func simple(
        _ upstream: FakeUpstream, limits: String = "{}", timeouts: String = "{}", route: String = ""
    )
        throws -> GatewayHarness
    {
        let extra = route.isEmpty ? "" : "," + route
        return try GatewayHarness(
            config(
                upstreams: [("app", [upstream.address])],
                routes: #"[{"name":"app","match":{"pathPrefix":"/"},"upstream":"app"\#(extra)}]"#,
                limits: limits, timeouts: timeouts))
    }
}

struct HarnessError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}
