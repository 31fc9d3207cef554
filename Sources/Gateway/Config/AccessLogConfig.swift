/// Where access-log lines go (`accessLog`).
public struct AccessLogConfig: Sendable, Equatable {
    /// The sink; standard output by default.
    public var sink: AccessLogSink

    /// Creates an access-log configuration; stdout by default.
    public init(sink: AccessLogSink = .stdout) {
        self.sink = sink
    }
}

/// An access-log destination, from `accessLog.path`.
public enum AccessLogSink: Sendable, Equatable, CustomStringConvertible {
    /// `"stdout"`.
    case stdout
    /// `"off"`: no access log.
    case off
    /// Any other value: a file the lines are appended to.
    case file(String)

    /// The value as written in the configuration.
    public var description: String {
        switch self {
        case .stdout: return "stdout"
        case .off: return "off"
        case .file(let path): return path
        }
    }
}
