import HTTP1

extension ConfigDecoder {
    static let routeKeys: Set<String> = [
        "name", "match", "upstream", "directResponse", "prefixRewrite", "hostRewrite", "redirectRewrite",
        "timeoutMs", "retries", "rateLimit", "requestHeaders", "responseHeaders",
    ]
    static let matchKeys: Set<String> = ["host", "path", "pathPrefix", "methods", "headers"]
    static let standardMethods: Set<String> = [
        "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH",
    ]

    /// `routes`: required, non-empty; names unique; no two routes with the same match.
    mutating func decodeRoutes(_ root: ConfigObject, upstreamNames: Set<String>, hasCluster: Bool)
        -> [RouteConfig]?
    {
        guard let node = required(root, "routes") else { return nil }
        guard let nodes = array(node, at: "routes") else { return nil }
        if nodes.isEmpty {
            report("routes", "must not be empty", at: node.offset)
            return nil
        }
        var routes: [RouteConfig] = []
        var complete = true
        var nameOwners: [String: String] = [:]
        var matchOwners: [MatchKey: String] = [:]
        for (path, element) in elements(nodes, at: "routes") {
            guard let object = object(element, at: path, keys: ConfigDecoder.routeKeys) else {
                complete = false
                continue
            }
            let name = decodeRouteName(object, owners: &nameOwners)
            let match = decodeMatch(object)
            if let match {
                let key = MatchKey(match)
                if let owner = matchOwners[key] {
                    report(
                        object.path("match"), "same match as \(owner)",
                        at: object["match"]?.offset ?? object.lastOffset)
                } else {
                    matchOwners[key] = path
                }
            }
            let target = decodeTarget(object, upstreamNames: upstreamNames)
            let prefixRewrite = decodeRewritePath(object)
            let hostRewrite = decodeHostRewrite(object)
            let redirectRewrite = bool(object, "redirectRewrite", default: true)
            let timeout = milliseconds(object, "timeoutMs", default: 15000)
            let retries = decodeRetries(object)
            let rateLimit = decodeRateLimit(object, hasCluster: hasCluster)
            let requestHeaders = decodeHeaderRules(object, "requestHeaders", reservesHost: true)
            let responseHeaders = decodeHeaderRules(object, "responseHeaders", reservesHost: false)
            guard let name, let match, let target else {
                complete = false
                continue
            }
            routes.append(
                RouteConfig(
                    name: name, match: match, target: target, prefixRewrite: prefixRewrite,
                    hostRewrite: hostRewrite, redirectRewrite: redirectRewrite, timeout: timeout,
                    retries: retries, rateLimit: rateLimit,
                    requestHeaders: requestHeaders, responseHeaders: responseHeaders))
        }
        return complete ? routes : nil
    }

    private mutating func decodeRouteName(_ route: ConfigObject, owners: inout [String: String]) -> String? {
        guard let node = required(route, "name"), let name = string(node, at: route.path("name")) else {
            return nil
        }
        if let problem = ConfigSyntax.nameProblem(name) {
            report(route.path("name"), problem, at: node.offset)
            return nil
        }
        if let owner = owners[name] {
            report(route.path("name"), "same name as \(owner)", at: node.offset)
        } else {
            owners[name] = route.path
        }
        return name
    }

    private mutating func decodeMatch(_ route: ConfigObject) -> RouteMatchConfig? {
        guard let node = optional(route, "match") else { return RouteMatchConfig() }
        guard let object = object(node, at: route.path("match"), keys: ConfigDecoder.matchKeys) else {
            return nil
        }
        var match = RouteMatchConfig()
        var valid = true
        if let host = string(object, "host") {
            if let pattern = ConfigSyntax.hostPattern(host) {
                match.host = pattern
            } else {
                let reason = host.contains(":") && !host.hasPrefix("[") ? " (without a port)" : ""
                report(
                    object.path("host"),
                    "invalid host \"\(host)\": expected a host name\(reason), *.domain or [IPv6]",
                    at: object["host"]!.offset)
                valid = false
            }
        } else if optional(object, "host") != nil {
            valid = false
        }
        let exact = decodeMatchPath(object, "path")
        let prefix = decodeMatchPath(object, "pathPrefix")
        if optional(object, "path") != nil && optional(object, "pathPrefix") != nil {
            report(route.path("match"), "set either path or pathPrefix, not both", at: object.offset)
            valid = false
        } else if let exact {
            match.path = .exact(exact)
        } else if let prefix {
            match.path = .prefix(prefix)
        } else if optional(object, "path") != nil || optional(object, "pathPrefix") != nil {
            valid = false
        }
        if let nodes = array(object, "methods") {
            match.methods = decodeMethods(
                nodes, at: object.path("methods"), offset: object["methods"]!.offset)
            valid = valid && match.methods != nil
        } else if optional(object, "methods") != nil {
            valid = false
        }
        if let node = optional(object, "headers") {
            if let headers = decodeHeaderConditions(node, at: object.path("headers")) {
                match.headers = headers
            } else {
                valid = false
            }
        }
        return valid ? match : nil
    }

    private mutating func decodeMatchPath(_ match: ConfigObject, _ key: String) -> String? {
        guard let path = string(match, key) else { return nil }
        if let problem = ConfigSyntax.pathProblem(path) {
            report(match.path(key), problem, at: match[key]!.offset)
            return nil
        }
        return path
    }

    private mutating func decodeMethods(_ nodes: [JSONNode], at path: String, offset: Int) -> [String]? {
        if nodes.isEmpty {
            report(path, "must not be empty", at: offset)
            return nil
        }
        var methods: [String] = []
        var valid = true
        for (elementPath, element) in elements(nodes, at: path) {
            guard let method = string(element, at: elementPath) else {
                valid = false
                continue
            }
            let upper = String(
                decoding: method.utf8.map { $0 >= 97 && $0 <= 122 ? $0 - 32 : $0 }, as: UTF8.self)
            if !ConfigSyntax.isToken(method) {
                report(elementPath, "invalid method \"\(method)\"", at: element.offset)
                valid = false
            } else if method != upper && ConfigDecoder.standardMethods.contains(upper) {
                // RFC 9110 §9.1: methods are case-sensitive, so "get" would never match a GET.
                report(
                    elementPath, "unknown method \"\(method)\" (methods are case-sensitive: \"\(upper)\")",
                    at: element.offset)
                valid = false
            } else if !methods.contains(method) {
                methods.append(method)
            }
        }
        return valid ? methods : nil
    }

    private mutating func decodeHeaderConditions(_ node: JSONNode, at path: String) -> [ConfigHeaderField]? {
        guard case .object(let members) = node.kind else {
            report(path, "expected an object", at: node.offset)
            return nil
        }
        var fields: [ConfigHeaderField] = []
        var owners: [String: String] = [:]
        var valid = true
        for member in members {
            let memberPath = ConfigObject.join(path, member.key)
            let lowered = ASCII.lowercased(member.key)
            if let owner = owners[lowered] {
                let message = owner == memberPath ? "duplicate key" : "same field as \(owner)"
                report(memberPath, message, at: member.keyOffset)
                valid = false
                continue
            }
            owners[lowered] = memberPath
            if !ConfigSyntax.isToken(member.key) {
                report(memberPath, "invalid header name", at: member.keyOffset)
                valid = false
            }
            guard let value = string(member.value, at: memberPath) else {
                valid = false
                continue
            }
            if !ConfigSyntax.isFieldValue(value) {
                report(memberPath, "invalid header value", at: member.value.offset)
                valid = false
            }
            fields.append(ConfigHeaderField(name: member.key, value: value))
        }
        return valid ? fields : nil
    }

    private mutating func decodeTarget(_ route: ConfigObject, upstreamNames: Set<String>) -> RouteTarget? {
        let upstreamNode = optional(route, "upstream")
        let directNode = optional(route, "directResponse")
        switch (upstreamNode, directNode) {
        case (.some, .some):
            report(route.path, "set either upstream or directResponse, not both", at: route.offset)
            return nil
        case (.none, .none):
            report(route.path, "missing upstream or directResponse", at: route.lastOffset)
            return nil
        case (.some(let node), .none):
            guard let name = string(node, at: route.path("upstream")) else { return nil }
            guard upstreamNames.contains(name) else {
                report(route.path("upstream"), "unknown upstream \"\(name)\"", at: node.offset)
                return nil
            }
            return .upstream(name)
        case (.none, .some):
            return decodeDirectResponse(route).map { .directResponse($0) }
        }
    }

    private mutating func decodeRewritePath(_ route: ConfigObject) -> String? {
        guard let rewrite = string(route, "prefixRewrite") else { return nil }
        if let problem = ConfigSyntax.pathProblem(rewrite) {
            report(route.path("prefixRewrite"), problem, at: route["prefixRewrite"]!.offset)
        }
        return rewrite
    }

    private mutating func decodeHostRewrite(_ route: ConfigObject) -> String? {
        guard let host = string(route, "hostRewrite") else { return nil }
        if !ConfigSyntax.isHostField(host) {
            report(
                route.path("hostRewrite"), "invalid host \"\(host)\": expected host[:port]",
                at: route["hostRewrite"]!.offset)
        }
        return host
    }
}

/// A route's match conditions after normalization, for finding routes that can never win:
/// methods as a set, header names lowercased, an omitted match as `pathPrefix: "/"`.
struct MatchKey: Hashable {
    let host: HostPattern?
    let path: PathPattern
    let methods: Set<String>?
    let headers: Set<ConfigHeaderField>

    init(_ match: RouteMatchConfig) {
        host = match.host
        path = match.path
        methods = match.methods.map(Set.init)
        headers = Set(
            match.headers.map { ConfigHeaderField(name: ASCII.lowercased($0.name), value: $0.value) })
    }
}
