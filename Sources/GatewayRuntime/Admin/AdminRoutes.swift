import Gateway
import HTTP1
import Reactor

/// What an admin request gets: an answer now, or one that arrives later (stats are
/// gathered from every worker loop; a reload reads the file on a thread of its own).
enum AdminAnswer {
    case now(AdminResponse)
    case later((@escaping @Sendable (AdminResponse) -> Void) -> Void)
}

/// The admin API (docs/operations.md, "Admin endpoint"): which request gets which answer.
struct AdminRoutes {
    let gateway: GatewayServer

    func handle(_ request: AdminRequest) -> AdminAnswer {
        let isRead = request.method == .get || request.method == .head
        switch request.path {
        case "/":
            guard isRead else { return .now(methodNotAllowed("GET")) }
            // The page itself reveals nothing; its requests for /stats carry the token.
            var page = AdminResponse(
                status: 200, contentType: "text/html; charset=utf-8", body: DashboardPage.body)
            page.headers.append(("Content-Security-Policy", DashboardPage.contentSecurityPolicy))
            page.headers.append(("Cache-Control", "no-store"))
            page.headers.append(("X-Content-Type-Options", "nosniff"))
            return .now(page)
        case "/healthz":
            guard isRead else { return .now(methodNotAllowed("GET")) }
            return .now(healthz())
        case "/ready":
            guard isRead else { return .now(methodNotAllowed("GET")) }
            return .now(ready())
        case "/stats", "/metrics", "/config", "/route", "/reload":
            if let refusal = authorize(request) { return .now(refusal) }
            switch request.path {
            case "/reload":
                guard request.method == .post else { return .now(methodNotAllowed("POST")) }
                return .later(reload)
            case "/stats":
                guard isRead else { return .now(methodNotAllowed("GET")) }
                return .later { reply in
                    StatsCollector.collect(from: gateway) { report in
                        var body = report.renderJSON()
                        body.append(UInt8(ascii: "\n"))
                        reply(AdminResponse(status: 200, body: body))
                    }
                }
            case "/metrics":
                guard isRead else { return .now(methodNotAllowed("GET")) }
                return .later { reply in
                    StatsCollector.collect(from: gateway) { report in
                        reply(
                            AdminResponse(
                                status: 200, contentType: "text/plain; version=0.0.4; charset=utf-8",
                                body: report.renderPrometheus()))
                    }
                }
            case "/config":
                guard isRead else { return .now(methodNotAllowed("GET")) }
                let snapshot = gateway.currentSnapshot
                return .now(.json(200, snapshot.config.redactedJSON(generation: snapshot.generation)))
            default:
                guard isRead else { return .now(methodNotAllowed("GET")) }
                return .now(route(request))
            }
        default:
            return .now(.error(404, "not_found", "no admin endpoint at \(request.path)"))
        }
    }

    /// nil when the request may proceed; else 401 (docs/operations.md, "Admin endpoint": every endpoint but
    /// `/`, `/healthz` and `/ready` needs the bearer token when one is set).
    private func authorize(_ request: AdminRequest) -> AdminResponse? {
        guard let token = gateway.currentSnapshot.config.admin?.token else { return nil }
        if let given = request.authorization, given.hasPrefix("Bearer "),
            constantTimeEquals(Array(given.utf8.dropFirst(7)), Array(token.utf8))
        {
            return nil
        }
        var refusal = AdminResponse.error(401, "unauthorized", "a valid bearer token is required")
        refusal.headers.append(("WWW-Authenticate", #"Bearer realm="portico-admin""#))
        return refusal
    }

    /// Compares without stopping at the first difference, so timing does not reveal the token.
    private func constantTimeEquals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for i in 0..<a.count { difference |= a[i] ^ b[i] }
        return difference == 0
    }

    private func methodNotAllowed(_ allowed: String) -> AdminResponse {
        var response = AdminResponse.error(405, "method_not_allowed", "use \(allowed)")
        response.headers.append(("Allow", allowed == "GET" ? "GET, HEAD" : allowed))
        return response
    }

    private func healthz() -> AdminResponse {
        gateway.isDraining
            ? .json(503, .object([("status", .string("draining"))]))
            : .json(200, .object([("status", .string("ok"))]))
    }

    private func ready() -> AdminResponse {
        gateway.isDraining
            ? .json(503, .object([("status", .string("draining"))]))
            : .json(200, .object([("status", .string("ready"))]))
    }

    private func reload(_ reply: @escaping @Sendable (AdminResponse) -> Void) {
        let gateway = self.gateway
        _ = LoopThread.start {
            let outcome = gateway.reload()
            if let generation = outcome.generation {
                reply(
                    .json(
                        200,
                        .object([
                            ("generation", .integer(generation)),
                            ("changes", .array(outcome.changes.map { .string($0) })),
                        ])))
            } else {
                reply(.json(400, .object([("errors", .array(outcome.errors.map { .string($0) }))])))
            }
        }
    }

    /// `GET /route?method=M&host=H&path=P&header=Name:Value`: which route a request would take.
    private func route(_ request: AdminRequest) -> AdminResponse {
        var method = "GET"
        var host: String?
        var target = "/"
        var headers: [(String, String)] = []
        for (name, value) in request.queryItems {
            switch name {
            case "method": method = value
            case "host": host = value.isEmpty ? nil : value
            case "path": target = value
            case "header":
                guard let colon = value.firstIndex(of: ":") else {
                    return .error(400, "bad_request", "header must be Name:Value")
                }
                let name = String(value[..<colon])
                let fieldValue = String(value[value.index(after: colon)...]).trimmingSpaces
                headers.append((name, fieldValue))
            default:
                return .error(400, "bad_request", "unknown query parameter \(name)")
            }
        }
        let questionMark = target.firstIndex(of: "?")
        var path = questionMark.map { String(target[..<$0]) } ?? target
        let query = questionMark.map { String(target[target.index(after: $0)...]) }
        guard path.hasPrefix("/") else { return .error(400, "bad_request", "path must start with /") }
        let normalized = Array(path.utf8).withUnsafeBytes { raw in
            Result { () throws(HTTP1ParseError) in try RequestTarget.normalizePath(raw) }
        }
        switch normalized {
        case .success(let bytes?): path = String(decoding: bytes, as: UTF8.self)
        case .success(nil): break
        case .failure(let error): return .error(400, "bad_request", error.reason)
        }
        let snapshot = gateway.currentSnapshot
        guard let index = snapshot.routeTable.match(method: method, host: host, path: path, headers: headers)
        else {
            return .json(404, .object([("route", .null)]))
        }
        let route = snapshot.routes[index]
        switch route.action {
        case .direct:
            return .json(
                200, .object([("route", .string(route.name)), ("upstream", .null), ("forwardPath", .null)]))
        case .upstream(let upstreamIndex):
            let forward = snapshot.routeTable.forwardTarget(route: index, path: path, query: query)
            return .json(
                200,
                .object([
                    ("route", .string(route.name)),
                    ("upstream", .string(snapshot.upstreams[upstreamIndex].name)),
                    ("forwardPath", .string(forward)),
                ]))
        }
    }
}

extension String {
    /// Without leading and trailing spaces and tabs.
    fileprivate var trimmingSpaces: String {
        var scalars = Substring(self)
        while scalars.first == " " || scalars.first == "\t" { scalars.removeFirst() }
        while scalars.last == " " || scalars.last == "\t" { scalars.removeLast() }
        return String(scalars)
    }
}
