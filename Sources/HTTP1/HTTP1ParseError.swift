/// Why a message could not be parsed; every case ends the connection.
///
/// Reasons are short static texts meant for logs and the JSON `message` of a gateway error.
public enum HTTP1ParseError: Error, Equatable, Sendable {
    /// Malformed request (400).
    case badRequest(String)
    /// The request line alone does not fit `maxHeaderBytes` (414).
    case uriTooLong
    /// The head does not fit `maxHeaderBytes` (431; for a response the caller answers 502).
    case headersTooLarge
    /// CONNECT, or a transfer coding the gateway does not implement (501).
    case notImplemented(String)
    /// An HTTP major version other than 1 (505).
    case versionNotSupported
    /// A malformed upstream response or response body (502).
    case badResponse(String)

    /// The status the gateway answers with.
    public var status: Int {
        switch self {
        case .badRequest: return 400
        case .uriTooLong: return 414
        case .headersTooLarge: return 431
        case .notImplemented: return 501
        case .versionNotSupported: return 505
        case .badResponse: return 502
        }
    }

    /// The reason text for logs (the case's text, or a fixed text for the cases without one).
    public var reason: String {
        switch self {
        case .badRequest(let text), .notImplemented(let text), .badResponse(let text): return text
        case .uriTooLong: return "request line too long"
        case .headersTooLarge: return "header section too large"
        case .versionNotSupported: return "HTTP version not supported"
        }
    }
}
