/// A failure that ends a request with a gateway-made response.
///
/// The status code, the `error` code of the JSON body and `X-Gateway-Error` all derive from
/// the kind, in one place (README.md, "How requests are handled").
public struct ProxyError: Error, Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        case badRequest
        case noRoute
        case requestTimeout
        case payloadTooLarge
        case uriTooLong
        case headersTooLarge
        case rateLimited
        /// A cluster rate limit with `onBackendError: closed` while its Redis fails.
        case rateLimitUnavailable
        case notImplemented
        case versionNotSupported
        case upstreamConnectFailed
        case upstreamReset
        case upstreamBadResponse
        case noHealthyUpstream
        case circuitOpen
        case upstreamOverloaded
        case deadlineExceeded
    }

    public var kind: Kind
    /// A short human-readable explanation for the JSON `message`.
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var status: Int {
        switch kind {
        case .badRequest: return 400
        case .noRoute: return 404
        case .requestTimeout: return 408
        case .payloadTooLarge: return 413
        case .uriTooLong: return 414
        case .headersTooLarge: return 431
        case .rateLimited: return 429
        case .notImplemented: return 501
        case .versionNotSupported: return 505
        case .upstreamConnectFailed, .upstreamReset, .upstreamBadResponse: return 502
        case .noHealthyUpstream, .circuitOpen, .upstreamOverloaded, .rateLimitUnavailable: return 503
        case .deadlineExceeded: return 504
        }
    }

    /// The code in the JSON body and in `X-Gateway-Error`.
    public var code: String { kind.code }

    /// The upstream failed the attempt (counted among its failures: it refused, reset,
    /// answered garbage or did not answer in time), rather than the client or the gateway's
    /// own limits.
    package var isUpstreamFailure: Bool {
        switch kind {
        case .upstreamConnectFailed, .upstreamReset, .upstreamBadResponse, .deadlineExceeded: return true
        default: return false
        }
    }

    /// Whether the client connection must be closed after the error response, because the
    /// rest of its byte stream can no longer be trusted or waited for.
    public var closesClientConnection: Bool {
        switch kind {
        case .badRequest, .requestTimeout, .payloadTooLarge, .uriTooLong, .headersTooLarge,
            .notImplemented, .versionNotSupported:
            return true
        default:
            return false
        }
    }
}

extension ProxyError.Kind {
    /// The code in the JSON body, in `X-Gateway-Error` and in the access log.
    public var code: String {
        switch self {
        case .badRequest: return "bad_request"
        case .noRoute: return "no_route"
        case .requestTimeout: return "request_timeout"
        case .payloadTooLarge: return "payload_too_large"
        case .uriTooLong: return "uri_too_long"
        case .headersTooLarge: return "headers_too_large"
        case .rateLimited: return "rate_limited"
        case .rateLimitUnavailable: return "rate_limit_unavailable"
        case .notImplemented: return "not_implemented"
        case .versionNotSupported: return "version_not_supported"
        case .upstreamConnectFailed: return "upstream_connect_failed"
        case .upstreamReset: return "upstream_reset"
        case .upstreamBadResponse: return "upstream_bad_response"
        case .noHealthyUpstream: return "no_healthy_upstream"
        case .circuitOpen: return "circuit_open"
        case .upstreamOverloaded: return "upstream_overloaded"
        case .deadlineExceeded: return "deadline_exceeded"
        }
    }
}
