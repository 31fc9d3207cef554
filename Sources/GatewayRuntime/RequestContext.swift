import Gateway
import HTTP1

/// What a gateway-made response needs to know about the request it answers.
struct RequestContext {
    var version: HTTPVersion
    var method: HTTPMethod
    /// The client asked for (1.0) or did not refuse (1.1) keep-alive.
    var keepAlive: Bool
    var requestID: [UInt8]
}

/// The access-log and stats record of one request, filled in as it progresses. Loop-confined.
final class RequestRecord {
    let requestID: [UInt8]
    let startedAt: UInt64
    let clientIP: String
    var method: [UInt8] = []
    var host: [UInt8] = []
    var target: [UInt8] = []
    var routeName: String?
    var upstreamName: String?
    var serverKey: String?
    var status = 0
    var attempts = 0
    var upstreamStartedAt: UInt64 = 0
    var upstreamHeadAt: UInt64 = 0
    var bytesIn = 0
    var bytesOut = 0
    var error: ProxyError?
    var cancelled = false
    /// The attempt failed on the upstream side (connect, reset, malformed, timeout).
    var upstreamFailed = false
    /// Stat slots (see `StatLayout`), set as the request is routed.
    var routeSlot: Int?
    var upstreamSlot: Int?
    var serverSlot: Int?

    init(requestID: [UInt8], startedAt: UInt64, clientIP: String) {
        self.requestID = requestID
        self.startedAt = startedAt
        self.clientIP = clientIP
    }
}
