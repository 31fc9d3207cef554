/// Loads `gateway.json`: parses it, decodes every section and checks every rule of docs/configuration.md
/// 2 and 3.
public enum ConfigLoader {
    /// Parses and validates the whole file; every problem is reported, not just the first.
    ///
    /// Errors come in file order, each as a json path and a message. A JSON syntax error is a
    /// single error with an empty path and a `line L column C: ...` message. `resolve` is called
    /// once per host name (never for IP literals).
    public static func load(json: [UInt8], resolve: HostResolver) -> Result<GatewayConfig, ConfigErrors> {
        var parser = JSONParser(bytes: json)
        let root: JSONNode
        do {
            root = try parser.parseDocument()
        } catch {
            return .failure(ConfigErrors([ConfigError(path: "", message: error.description)]))
        }
        return withoutActuallyEscaping(resolve) { resolve in
            var decoder = ConfigDecoder(resolve: resolve)
            let config = decoder.decodeRoot(root)
            if var config, decoder.problems.isEmpty {
                config.sourceSHA256 = SHA256.hex(json)
                return .success(config)
            }
            return .failure(ConfigErrors(decoder.problems.sorted()))
        }
    }
}

extension ConfigDecoder {
    static let rootKeys: Set<String> = [
        "$schema", "workers", "listeners", "admin", "limits", "timeouts", "accessLog", "upstreams", "routes",
        "cluster",
    ]

    mutating func decodeRoot(_ root: JSONNode) -> GatewayConfig? {
        guard case .object = root.kind else {
            report("", "expected a JSON object at the top level", at: root.offset)
            return nil
        }
        guard let object = object(root, at: "", keys: ConfigDecoder.rootKeys) else { return nil }
        let workers = integer(object, "workers", default: 0, maximum: 1024)
        let listeners = decodeListeners(object)
        let admin = decodeAdmin(object, listeners: listeners)
        let limits = decodeLimits(object)
        let timeouts = decodeTimeouts(object)
        let accessLog = decodeAccessLog(object)
        let upstreams = decodeUpstreams(object)
        let cluster = decodeCluster(object)
        let routes = decodeRoutes(
            object, upstreamNames: upstreams.names, hasCluster: optional(object, "cluster") != nil)
        guard let listeners, let routes else { return nil }
        return GatewayConfig(
            workers: workers, listeners: listeners, admin: admin, limits: limits, timeouts: timeouts,
            accessLog: accessLog, upstreams: upstreams.configs, routes: routes, cluster: cluster)
    }

    /// Reads a `host:port` string and resolves it; `allowPortZero` is for listeners only.
    mutating func address(_ node: JSONNode, at path: String, allowPortZero: Bool) -> ConfigAddress? {
        guard let text = string(node, at: path) else { return nil }
        switch ConfigAddress.parse(text, resolve: resolve) {
        case .success(let address):
            if address.port == 0 && !allowPortZero {
                report(
                    path, "invalid address \"\(text)\": port must be a number from 1 to 65535",
                    at: node.offset)
                return nil
            }
            return address
        case .failure(let error):
            report(path, error.message, at: node.offset)
            return nil
        }
    }
}
