/// One route (`routes[i]`): what requests it matches and where they go.
public struct RouteConfig: Sendable, Equatable {
    /// Unique name used in stats, logs and rate-limit fields; required.
    public var name: String
    /// Conditions a request must meet; by default any request (`pathPrefix: "/"`).
    public var match: RouteMatchConfig
    /// An upstream name or a canned response; exactly one of `upstream` / `directResponse`.
    public var target: RouteTarget
    /// Replaces the matched prefix before forwarding (docs/configuration.md, "routes[]"); nil (the default) forwards the
    /// path unchanged. For a `path` route the whole path is the matched prefix.
    public var prefixRewrite: String?
    /// Overrides the Host header sent upstream; nil (the default) passes it through.
    public var hostRewrite: String?
    /// On a route with `prefixRewrite` or `hostRewrite`, maps response `Location` and
    /// `Content-Location` values that point into the upstream prefix or at the upstream-facing
    /// host back to the client-facing ones (see ``RedirectRewrite``); true by default.
    public var redirectRewrite: Bool
    /// Whole-request deadline, retries included (`timeoutMs`); `.zero` means none; default 15 s.
    public var timeout: TimeSpan
    /// Retry policy; defaults as in ``RetryConfig``.
    public var retries: RetryConfig
    /// Rate limit; nil (the default) means none.
    public var rateLimit: RateLimitConfig?
    /// Header rules applied to the request sent upstream; none by default.
    public var requestHeaders: HeaderRulesConfig
    /// Header rules applied to the response sent to the client; none by default.
    public var responseHeaders: HeaderRulesConfig

    /// Creates a route with the documented defaults (docs/configuration.md) for everything but its name and target.
    public init(
        name: String,
        match: RouteMatchConfig = RouteMatchConfig(),
        target: RouteTarget,
        prefixRewrite: String? = nil,
        hostRewrite: String? = nil,
        redirectRewrite: Bool = true,
        timeout: TimeSpan = .milliseconds(15000),
        retries: RetryConfig = RetryConfig(),
        rateLimit: RateLimitConfig? = nil,
        requestHeaders: HeaderRulesConfig = HeaderRulesConfig(),
        responseHeaders: HeaderRulesConfig = HeaderRulesConfig()
    ) {
        self.name = name
        self.match = match
        self.target = target
        self.prefixRewrite = prefixRewrite
        self.hostRewrite = hostRewrite
        self.redirectRewrite = redirectRewrite
        self.timeout = timeout
        self.retries = retries
        self.rateLimit = rateLimit
        self.requestHeaders = requestHeaders
        self.responseHeaders = responseHeaders
    }

    /// The upstream's name, or nil for a direct-response route.
    public var upstreamName: String? {
        if case .upstream(let name) = target { return name }
        return nil
    }
}

/// Where a route sends its requests.
public enum RouteTarget: Sendable, Equatable {
    /// `upstream`: the named upstream pool (validated to exist).
    case upstream(String)
    /// `directResponse`: the gateway answers itself.
    case directResponse(DirectResponseConfig)
}
