/// The decoded `upstreams` section: every declared name (even of a broken upstream, so routes
/// naming it are not also reported) and the upstreams that decoded cleanly.
struct DecodedUpstreams {
    var names: Set<String> = []
    var configs: [UpstreamConfig] = []
}

extension ConfigDecoder {
    static let upstreamKeys: Set<String> = [
        "servers", "balance", "hashOn", "connectTimeoutMs", "pool", "healthCheck", "circuitBreaker",
    ]
    static let serverKeys: Set<String> = ["address", "weight"]
    static let poolKeys: Set<String> = [
        "maxConnectionsPerServer", "maxIdlePerServer", "idleTimeoutMs", "maxPending",
    ]
    static let healthCheckKeys: Set<String> = [
        "path", "intervalMs", "timeoutMs", "unhealthyThreshold", "healthyThreshold",
    ]
    static let circuitBreakerKeys: Set<String> = ["failureThreshold", "openMs", "halfOpenMaxRequests"]
    static let balanceNames = ["round_robin", "least_request", "random", "consistent_hash"]
    static let maximumWeight = 1_000_000

    mutating func decodeUpstreams(_ root: ConfigObject) -> DecodedUpstreams {
        var decoded = DecodedUpstreams()
        guard let node = optional(root, "upstreams") else { return decoded }
        guard case .object(let members) = node.kind else {
            report("upstreams", "expected an object", at: node.offset)
            return decoded
        }
        for member in members {
            let path = "upstreams." + member.key
            guard decoded.names.insert(member.key).inserted else {
                report(path, "duplicate key", at: member.keyOffset)
                continue
            }
            if let problem = ConfigSyntax.nameProblem(member.key) {
                report(path, "invalid upstream name: \(problem)", at: member.keyOffset)
                continue
            }
            if let upstream = decodeUpstream(member.value, named: member.key, at: path) {
                decoded.configs.append(upstream)
            }
        }
        return decoded
    }

    private mutating func decodeUpstream(_ node: JSONNode, named name: String, at path: String)
        -> UpstreamConfig?
    {
        guard let object = object(node, at: path, keys: ConfigDecoder.upstreamKeys) else { return nil }
        let servers = decodeServers(object)
        let balance = decodeBalance(object)
        let connectTimeout = milliseconds(object, "connectTimeoutMs", default: 1000, minimum: 1)
        let pool = decodePool(object)
        let healthCheck = decodeHealthCheck(object)
        let circuitBreaker = decodeCircuitBreaker(object)
        guard let servers else { return nil }
        return UpstreamConfig(
            name: name, servers: servers, balance: balance, connectTimeout: connectTimeout, pool: pool,
            healthCheck: healthCheck, circuitBreaker: circuitBreaker)
    }

    private mutating func decodeServers(_ upstream: ConfigObject) -> [ServerConfig]? {
        let path = upstream.path("servers")
        guard let node = required(upstream, "servers"), let nodes = array(node, at: path) else { return nil }
        if nodes.isEmpty {
            report(path, "must not be empty", at: node.offset)
            return nil
        }
        var servers: [ServerConfig] = []
        var complete = true
        var owners: [AddressKey: String] = [:]
        for (serverPath, element) in elements(nodes, at: path) {
            guard let object = object(element, at: serverPath, keys: ConfigDecoder.serverKeys) else {
                complete = false
                continue
            }
            let weight = integer(
                object, "weight", default: 1, minimum: 1, maximum: ConfigDecoder.maximumWeight)
            guard let addressNode = required(object, "address"),
                let address = address(addressNode, at: object.path("address"), allowPortZero: false)
            else {
                complete = false
                continue
            }
            if let owner = owners[AddressKey(address)] {
                report(object.path("address"), "same address as \(owner)", at: addressNode.offset)
            } else {
                owners[AddressKey(address)] = serverPath
            }
            servers.append(ServerConfig(address: address, weight: weight))
        }
        return complete ? servers : nil
    }

    private mutating func decodeBalance(_ upstream: ConfigObject) -> BalanceAlgorithm {
        let hashNode = optional(upstream, "hashOn")
        var hashKey = HashKey.clientIP
        if let hashNode, let text = string(hashNode, at: upstream.path("hashOn")) {
            if let key = ConfigDecoder.hashKey(text) {
                hashKey = key
            } else {
                report(
                    upstream.path("hashOn"),
                    "unknown value \"\(text)\" (expected client_ip, path or header:<Name>)",
                    at: hashNode.offset)
            }
        }
        guard let node = optional(upstream, "balance"),
            let text = string(node, at: upstream.path("balance"))
        else {
            reportHashOnWithoutConsistentHash(upstream, hashNode)
            return .roundRobin
        }
        let algorithm: BalanceAlgorithm
        switch text {
        case "round_robin":
            algorithm = .roundRobin
        case "least_request":
            algorithm = .leastRequest
        case "random":
            algorithm = .random
        case "consistent_hash":
            return .consistentHash(hashKey)
        default:
            let expected = ConfigSyntax.choices(ConfigDecoder.balanceNames)
            report(
                upstream.path("balance"), "unknown value \"\(text)\" (expected \(expected))", at: node.offset)
            return .roundRobin
        }
        reportHashOnWithoutConsistentHash(upstream, hashNode)
        return algorithm
    }

    private mutating func reportHashOnWithoutConsistentHash(_ upstream: ConfigObject, _ hashNode: JSONNode?) {
        guard let hashNode else { return }
        report(
            upstream.path("hashOn"), "only allowed with \"balance\": \"consistent_hash\"", at: hashNode.offset
        )
    }

    private static func hashKey(_ text: String) -> HashKey? {
        switch text {
        case "client_ip":
            return .clientIP
        case "path":
            return .path
        default:
            guard let name = headerKeyName(text) else { return nil }
            return .header(name)
        }
    }

    /// The field name in `header:<Name>`, if `text` has that form with a valid name.
    static func headerKeyName(_ text: String) -> String? {
        guard text.hasPrefix("header:") else { return nil }
        let name = String(text.dropFirst("header:".count))
        return ConfigSyntax.isToken(name) ? name : nil
    }

    private mutating func decodePool(_ upstream: ConfigObject) -> PoolConfig {
        guard let object = nested(upstream, "pool", keys: ConfigDecoder.poolKeys) else { return PoolConfig() }
        return PoolConfig(
            maxConnectionsPerServer: integer(object, "maxConnectionsPerServer", default: 1024, minimum: 1),
            maxIdlePerServer: integer(object, "maxIdlePerServer", default: 1024),
            idleTimeout: milliseconds(object, "idleTimeoutMs", default: 30000),
            maxPending: integer(object, "maxPending", default: 1024))
    }

    private mutating func decodeHealthCheck(_ upstream: ConfigObject) -> HealthCheckConfig? {
        guard let object = nested(upstream, "healthCheck", keys: ConfigDecoder.healthCheckKeys) else {
            return nil
        }
        var check = HealthCheckConfig()
        if let path = string(object, "path") {
            if let problem = ConfigSyntax.pathProblem(path) {
                report(object.path("path"), problem, at: object["path"]!.offset)
            }
            check.path = path
        }
        check.interval = milliseconds(object, "intervalMs", default: 5000, minimum: 1)
        check.timeout = milliseconds(object, "timeoutMs", default: 1000, minimum: 1)
        check.unhealthyThreshold = integer(
            object, "unhealthyThreshold", default: 3, minimum: 1, maximum: 65535)
        check.healthyThreshold = integer(object, "healthyThreshold", default: 2, minimum: 1, maximum: 65535)
        return check
    }

    private mutating func decodeCircuitBreaker(_ upstream: ConfigObject) -> CircuitBreakerConfig {
        guard let object = nested(upstream, "circuitBreaker", keys: ConfigDecoder.circuitBreakerKeys) else {
            return CircuitBreakerConfig()
        }
        return CircuitBreakerConfig(
            failureThreshold: integer(object, "failureThreshold", default: 5, minimum: 1, maximum: 65535),
            openDuration: milliseconds(object, "openMs", default: 10000),
            halfOpenMaxRequests: integer(
                object, "halfOpenMaxRequests", default: 1, minimum: 1, maximum: 65535))
    }
}
