/// The whole validated configuration file (docs/configuration.md), with every default filled in.
///
/// Produced by ``ConfigLoader/load(json:resolve:)``; immutable once loaded. Upstreams and routes
/// keep file order.
public struct GatewayConfig: Sendable, Equatable {
    /// Event-loop threads; 0 (the default) means one per CPU core.
    public var workers: Int
    /// Public listeners; at least one.
    public var listeners: [ListenerConfig]
    /// The admin endpoint; nil (the default) disables it.
    public var admin: AdminConfig?
    /// Size and connection limits; defaults as in ``LimitsConfig``.
    public var limits: LimitsConfig
    /// Client-side timeouts; defaults as in ``TimeoutsConfig``.
    public var timeouts: TimeoutsConfig
    /// Where access-log lines go; stdout by default.
    public var accessLog: AccessLogConfig
    /// Upstream pools in file order; names are unique. Empty by default.
    public var upstreams: [UpstreamConfig]
    /// Routes in file order; at least one. The index of a route is its identity in a ``RouteTable``.
    public var routes: [RouteConfig]
    /// The Redis of cluster-scoped rate limits; nil (the default) when none is used.
    public var cluster: ClusterConfig?
    /// The SHA-256 of the file's bytes as 64 hex digits (what `sha256sum` prints), set by
    /// ``ConfigLoader/load(json:resolve:)``: `/stats` shows it so operators running several
    /// replicas see which file each one runs. Empty for a configuration built in code.
    public var sourceSHA256 = ""

    /// Creates a configuration; every argument but `listeners` and `routes` has the documented default.
    public init(
        workers: Int = 0,
        listeners: [ListenerConfig],
        admin: AdminConfig? = nil,
        limits: LimitsConfig = LimitsConfig(),
        timeouts: TimeoutsConfig = TimeoutsConfig(),
        accessLog: AccessLogConfig = AccessLogConfig(),
        upstreams: [UpstreamConfig] = [],
        routes: [RouteConfig],
        cluster: ClusterConfig? = nil
    ) {
        self.workers = workers
        self.listeners = listeners
        self.admin = admin
        self.limits = limits
        self.timeouts = timeouts
        self.accessLog = accessLog
        self.upstreams = upstreams
        self.routes = routes
        self.cluster = cluster
    }

    /// The position of the upstream called `name` in ``upstreams``, if there is one.
    public func upstreamIndex(named name: String) -> Int? {
        upstreams.firstIndex { $0.name == name }
    }

    /// The upstream called `name`, if there is one.
    public func upstream(named name: String) -> UpstreamConfig? {
        upstreamIndex(named: name).map { upstreams[$0] }
    }
}
