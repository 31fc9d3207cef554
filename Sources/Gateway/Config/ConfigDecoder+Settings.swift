extension ConfigDecoder {
    static let limitsKeys: Set<String> = [
        "maxConnections", "maxRequestHeaderBytes", "maxRequestBodyBytes", "maxResponseHeaderBytes",
    ]
    static let timeoutsKeys: Set<String> = ["requestHeaderMs", "idleMs", "drainMs"]
    static let accessLogKeys: Set<String> = ["path"]

    /// `limits`; zero is refused where it would refuse every connection or request.
    mutating func decodeLimits(_ root: ConfigObject) -> LimitsConfig {
        var limits = LimitsConfig()
        guard let object = nested(root, "limits", keys: ConfigDecoder.limitsKeys) else { return limits }
        limits.maxConnections = integer(object, "maxConnections", default: limits.maxConnections, minimum: 1)
        limits.maxRequestHeaderBytes = integer(
            object, "maxRequestHeaderBytes", default: limits.maxRequestHeaderBytes, minimum: 1)
        limits.maxRequestBodyBytes = integer(
            object, "maxRequestBodyBytes", default: limits.maxRequestBodyBytes)
        limits.maxResponseHeaderBytes = integer(
            object, "maxResponseHeaderBytes", default: limits.maxResponseHeaderBytes, minimum: 1)
        return limits
    }

    /// `timeouts`; a zero header or idle timeout would fail every request, so both must be
    /// positive.
    mutating func decodeTimeouts(_ root: ConfigObject) -> TimeoutsConfig {
        let defaults = TimeoutsConfig()
        guard let object = nested(root, "timeouts", keys: ConfigDecoder.timeoutsKeys) else { return defaults }
        return TimeoutsConfig(
            requestHeader: milliseconds(object, "requestHeaderMs", default: 10000, minimum: 1),
            idle: milliseconds(object, "idleMs", default: 60000, minimum: 1),
            drain: milliseconds(object, "drainMs", default: 15000))
    }

    /// `accessLog.path`: `stdout`, `off`, or a file path.
    mutating func decodeAccessLog(_ root: ConfigObject) -> AccessLogConfig {
        guard let object = nested(root, "accessLog", keys: ConfigDecoder.accessLogKeys),
            let path = string(object, "path")
        else { return AccessLogConfig() }
        switch path {
        case "stdout":
            return AccessLogConfig(sink: .stdout)
        case "off":
            return AccessLogConfig(sink: .off)
        case "":
            report(object.path("path"), "must not be empty", at: object["path"]!.offset)
            return AccessLogConfig()
        default:
            return AccessLogConfig(sink: .file(path))
        }
    }
}
