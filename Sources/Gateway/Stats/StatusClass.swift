/// The class of an HTTP status code (RFC 9110 §15): the first digit, 1 to 5.
public enum StatusClass: Int, CaseIterable, Sendable {
    /// 1xx.
    case informational = 1
    /// 2xx.
    case successful
    /// 3xx.
    case redirection
    /// 4xx.
    case clientError
    /// 5xx.
    case serverError

    /// The class of `status`, or nil outside 100...599.
    public init?(status: Int) {
        guard (100...599).contains(status) else { return nil }
        self.init(rawValue: status / 100)
    }

    /// `1xx` … `5xx`: the key under `responses` in /stats and the `code_class` label in /metrics.
    public var label: String {
        switch self {
        case .informational: "1xx"
        case .successful: "2xx"
        case .redirection: "3xx"
        case .clientError: "4xx"
        case .serverError: "5xx"
        }
    }
}
