import HTTP1

extension ConfigDecoder {
    static let retryKeys: Set<String> = [
        "maxRetries", "retryOn", "retriableStatusCodes", "perTryTimeoutMs", "backoff", "budgetPercent",
        "retryNonIdempotent",
    ]
    static let backoffKeys: Set<String> = ["baseMs", "maxMs"]
    static let rateLimitKeys: Set<String> = [
        "requestsPerSecond", "burst", "key", "dryRun", "scope", "onBackendError",
    ]
    static let headerRulesKeys: Set<String> = ["set", "remove"]
    static let directResponseKeys: Set<String> = ["status", "body", "contentType"]
    static let minimumRequestsPerSecond = 0.001
    static let maximumBurst = 1_000_000_000

    // Fields the gateway manages itself: framing (RFC 9112 §6) and hop-by-hop fields
    // (RFC 9110 §7.6.1). Letting a route rewrite them would break framing or the proxy rules.
    static let reservedFields: Set<String> = [
        "content-length", "transfer-encoding", "connection", "keep-alive", "proxy-connection", "te",
        "trailer",
        "upgrade",
    ]

    mutating func decodeRetries(_ route: ConfigObject) -> RetryConfig {
        var retries = RetryConfig()
        guard let object = nested(route, "retries", keys: ConfigDecoder.retryKeys) else { return retries }
        retries.maxRetries = integer(object, "maxRetries", default: retries.maxRetries)
        if let nodes = array(object, "retryOn") {
            retries.retryOn = []
            for (path, node) in elements(nodes, at: object.path("retryOn")) {
                guard let text = string(node, at: path) else { continue }
                guard let condition = RetryCondition(rawValue: text) else {
                    let expected = ConfigSyntax.choices(RetryCondition.allCases.map(\.rawValue))
                    report(path, "unknown value \"\(text)\" (expected \(expected))", at: node.offset)
                    continue
                }
                if !retries.retryOn.contains(condition) {
                    retries.retryOn.append(condition)
                }
            }
        }
        if let nodes = array(object, "retriableStatusCodes") {
            for (path, node) in elements(nodes, at: object.path("retriableStatusCodes")) {
                guard case .number(let number) = node.kind, let code = number.integer,
                    (100...599).contains(code)
                else {
                    report(path, "expected a status code from 100 to 599", at: node.offset)
                    continue
                }
                if !retries.retriableStatusCodes.contains(Int(code)) {
                    retries.retriableStatusCodes.append(Int(code))
                }
            }
        }
        retries.perTryTimeout = milliseconds(object, "perTryTimeoutMs", default: 0)
        if let backoff = nested(object, "backoff", keys: ConfigDecoder.backoffKeys) {
            retries.backoff = BackoffConfig(
                base: milliseconds(backoff, "baseMs", default: 25),
                max: milliseconds(backoff, "maxMs", default: 250))
        }
        let budget = number(object, "budgetPercent", default: retries.budgetPercent)
        if budget < 0 {
            report(object.path("budgetPercent"), "must not be negative", at: object["budgetPercent"]!.offset)
        } else {
            retries.budgetPercent = budget
        }
        retries.retryNonIdempotent = bool(object, "retryNonIdempotent", default: false)
        checkRetryConsistency(retries, object)
        return retries
    }

    // Conditions that could never fire are reported: the operator meant something else.
    private mutating func checkRetryConsistency(_ retries: RetryConfig, _ object: ConfigObject) {
        let codesNode = optional(object, "retriableStatusCodes")
        let codesGiven = codesNode.map { node in
            if case .array(let elements) = node.kind { return !elements.isEmpty }
            return true
        }
        if retries.retries(on: .retriableStatus) && codesGiven != true {
            report(
                object.path("retriableStatusCodes"),
                "must not be empty when retryOn has \"retriable_status\"",
                at: codesNode?.offset ?? object.lastOffset)
        }
        let timeoutNode = optional(object, "perTryTimeoutMs")
        if retries.retries(on: .perTryTimeout) && (timeoutNode == nil || timeoutNode?.integerValue == 0) {
            report(
                object.path("perTryTimeoutMs"), "must be greater than 0 when retryOn has \"per_try_timeout\"",
                at: timeoutNode?.offset ?? object.lastOffset)
        }
    }

    mutating func decodeRateLimit(_ route: ConfigObject, hasCluster: Bool) -> RateLimitConfig? {
        guard let object = nested(route, "rateLimit", keys: ConfigDecoder.rateLimitKeys) else { return nil }
        var rate = 100.0
        if let node = optional(object, "requestsPerSecond") {
            let path = object.path("requestsPerSecond")
            if case .number(let number) = node.kind {
                if number.double <= 0 {
                    report(path, "must be greater than 0", at: node.offset)
                } else if number.double < ConfigDecoder.minimumRequestsPerSecond {
                    report(
                        path, "must be at least \(ConfigDecoder.minimumRequestsPerSecond)", at: node.offset)
                } else if number.double > Double(ConfigDecoder.maximumBurst) {
                    report(path, "must be at most \(ConfigDecoder.maximumBurst)", at: node.offset)
                } else {
                    rate = number.double
                }
            } else {
                report(path, "expected a number", at: node.offset)
            }
        }
        var burst: Int?
        if let node = optional(object, "burst") {
            burst = integer(node, at: object.path("burst"), minimum: 1, maximum: ConfigDecoder.maximumBurst)
        }
        var key = RateLimitKey.clientIP
        if let node = optional(object, "key"), let text = string(node, at: object.path("key")) {
            switch text {
            case "client_ip":
                key = .clientIP
            case "global":
                key = .global
            default:
                if let name = ConfigDecoder.headerKeyName(text) {
                    key = .header(name)
                } else {
                    report(
                        object.path("key"),
                        "unknown value \"\(text)\" (expected client_ip, global or header:<Name>)",
                        at: node.offset)
                }
            }
        }
        let dryRun = bool(object, "dryRun", default: false)
        let scope = choice(object, "scope", default: RateLimitScope.local)
        if scope == .cluster && !hasCluster, let node = object["scope"] {
            report(object.path("scope"), "\"cluster\" needs a top-level cluster.redis", at: node.offset)
        }
        let onBackendError = choice(object, "onBackendError", default: BackendErrorPolicy.local)
        if scope == .local, let node = optional(object, "onBackendError") {
            // Accepted and ignored would look like a fallback that is not there.
            report(object.path("onBackendError"), "applies only to scope \"cluster\"", at: node.offset)
        }
        return RateLimitConfig(
            requestsPerSecond: rate, burst: burst, key: key, dryRun: dryRun, scope: scope,
            onBackendError: onBackendError)
    }

    mutating func decodeHeaderRules(_ route: ConfigObject, _ key: String, reservesHost: Bool)
        -> HeaderRulesConfig
    {
        var rules = HeaderRulesConfig()
        guard let object = nested(route, key, keys: ConfigDecoder.headerRulesKeys) else { return rules }
        var owners: [String: String] = [:]
        if let node = optional(object, "set") {
            let setPath = object.path("set")
            if case .object(let members) = node.kind {
                for member in members {
                    let path = ConfigObject.join(setPath, member.key)
                    let lowered = ASCII.lowercased(member.key)
                    if let owner = owners[lowered] {
                        report(
                            path, owner == path ? "duplicate key" : "same field as \(owner)",
                            at: member.keyOffset)
                        continue
                    }
                    owners[lowered] = path
                    checkRuleName(
                        member.key, at: path, offset: member.keyOffset, verb: "set",
                        reservesHost: reservesHost)
                    guard let value = string(member.value, at: path) else { continue }
                    if !ConfigSyntax.isFieldValue(value) {
                        report(path, "invalid header value", at: member.value.offset)
                    }
                    rules.set.append(ConfigHeaderField(name: member.key, value: value))
                }
            } else {
                report(setPath, "expected an object", at: node.offset)
            }
        }
        if let nodes = array(object, "remove") {
            for (path, node) in elements(nodes, at: object.path("remove")) {
                guard let name = string(node, at: path) else { continue }
                checkRuleName(name, at: path, offset: node.offset, verb: "remove", reservesHost: reservesHost)
                let lowered = ASCII.lowercased(name)
                if !rules.remove.contains(where: { ASCII.lowercased($0) == lowered }) {
                    rules.remove.append(name)
                }
            }
        }
        return rules
    }

    private mutating func checkRuleName(
        _ name: String, at path: String, offset: Int, verb: String, reservesHost: Bool
    ) {
        let lowered = ASCII.lowercased(name)
        if !ConfigSyntax.isToken(name) {
            report(path, "invalid header name \"\(name)\"", at: offset)
        } else if ConfigDecoder.reservedFields.contains(lowered) {
            report(
                path, "cannot \(verb) \(name): the gateway manages framing and hop-by-hop fields", at: offset)
        } else if reservesHost && lowered == "host" {
            report(path, "cannot \(verb) Host: use hostRewrite", at: offset)
        }
    }

    mutating func decodeDirectResponse(_ route: ConfigObject) -> DirectResponseConfig? {
        guard let object = nested(route, "directResponse", keys: ConfigDecoder.directResponseKeys) else {
            return nil
        }
        var response = DirectResponseConfig()
        var valid = true
        if let node = optional(object, "status") {
            if case .number(let number) = node.kind, let status = number.integer, (200...599).contains(status)
            {
                response.status = Int(status)
            } else {
                report(object.path("status"), "expected a status code from 200 to 599", at: node.offset)
                valid = false
            }
        }
        if let body = string(object, "body") {
            response.body = body
            // RFC 9110 §15.3.5 and §15.4.5: 204 and 304 responses have no content.
            if !body.isEmpty && (response.status == 204 || response.status == 304) {
                report(
                    object.path("body"), "must be empty for status \(response.status)",
                    at: object["body"]!.offset)
                valid = false
            }
        }
        if let contentType = string(object, "contentType") {
            if contentType.isEmpty || !ConfigSyntax.isFieldValue(contentType) {
                report(object.path("contentType"), "invalid header value", at: object["contentType"]!.offset)
                valid = false
            }
            response.contentType = contentType
        }
        return valid ? response : nil
    }
}
