import Gateway
import HTTP1

/// What a gateway-made response needs to know about the request it answers.
struct RequestContext {
    var version: HTTPVersion
    var method: HTTPMethod
    /// The client asked for (1.0) or did not refuse (1.1) keep-alive.
    var keepAlive: Bool
    var requestID: RequestID
    /// The route's RateLimit fields (and `Retry-After` for a refusal), already serialized;
    /// nil on a route without a limit.
    var rateLimitFields: [UInt8]? = nil
}

extension RequestContext {
    init(_ head: borrowing RequestHead, requestID: RequestID, rateLimitFields: [UInt8]? = nil) {
        self.init(
            version: head.version, method: head.method, keepAlive: head.isKeepAlive, requestID: requestID,
            rateLimitFields: rateLimitFields)
    }
}

/// The access-log and stats record of one request, filled in as it progresses. Loop-confined.
///
/// A value kept inside the request's exchange (no allocation per request); nothing in it is
/// reference counted on the usual path.
struct RequestRecord {
    var requestID: RequestID
    var startedAt: Instant
    /// Only what the access log alone needs; nil while it is off.
    var logDetails: RequestLogDetails?
    // Unretained: these belong to the snapshot the request runs under, which the exchange
    // (or the synchronous caller, for requests answered at once) keeps alive longer than the
    // record is used. (Unmanaged rather than optional unowned(unsafe) fields, which crash
    // the Swift 6.3 optimizer inside a struct.)
    private var routeRef: Unmanaged<RuntimeRoute>?
    private var upstreamRef: Unmanaged<RuntimeUpstream>?
    private var serverRef: Unmanaged<RuntimeServer>?

    var route: RuntimeRoute? {
        get { routeRef?.takeUnretainedValue() }
        set { routeRef = newValue.map { Unmanaged.passUnretained($0) } }
    }
    var upstream: RuntimeUpstream? {
        get { upstreamRef?.takeUnretainedValue() }
        set { upstreamRef = newValue.map { Unmanaged.passUnretained($0) } }
    }
    var server: RuntimeServer? {
        get { serverRef?.takeUnretainedValue() }
        set { serverRef = newValue.map { Unmanaged.passUnretained($0) } }
    }
    var status = 0
    var attempts = 0
    /// When the first attempt began, and when the response head arrived.
    var upstreamStartedAt: Instant?
    var upstreamHeadAt: Instant?
    var bytesIn = 0
    var bytesOut = 0
    var errorKind: ProxyError.Kind?
    var cancelled = false
    /// The attempt failed on the upstream side (connect, reset, malformed, timeout).
    var upstreamFailed = false
    /// The server stat slot of the attempt in progress (see `Worker.exchangeStarted`).
    var serverSlot: Int?

    init(requestID: RequestID, startedAt: Instant, logDetails: RequestLogDetails?) {
        self.requestID = requestID
        self.startedAt = startedAt
        self.logDetails = logDetails
    }

    /// Starts the record over for another request, in place.
    mutating func restart(requestID: RequestID, startedAt: Instant, logDetails: RequestLogDetails?) {
        self.requestID = requestID
        self.startedAt = startedAt
        self.logDetails = logDetails
        routeRef = nil
        upstreamRef = nil
        serverRef = nil
        status = 0
        attempts = 0
        upstreamStartedAt = nil
        upstreamHeadAt = nil
        bytesIn = 0
        bytesOut = 0
        errorKind = nil
        cancelled = false
        upstreamFailed = false
        serverSlot = nil
    }
}

/// Request fields only the access log uses, copied only while it is on.
final class RequestLogDetails {
    let clientIP: String
    let method: [UInt8]
    let host: [UInt8]
    let target: [UInt8]

    init(clientIP: String, method: [UInt8], host: [UInt8], target: [UInt8]) {
        self.clientIP = clientIP
        self.method = method
        self.host = host
        self.target = target
    }
}
