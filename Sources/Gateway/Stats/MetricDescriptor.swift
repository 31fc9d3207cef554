/// The Prometheus metric type of a family (text format 0.0.4 `# TYPE` line).
public enum MetricType: String, Sendable {
    /// Only ever goes up.
    case counter
    /// Goes up and down.
    case gauge
    /// Cumulative `_bucket{le}` samples plus `_sum` and `_count`.
    case histogram
}

/// A Prometheus metric family: its name, `# HELP` text, type and label names in sample order.
public struct MetricDescriptor: Sendable, Equatable {
    /// The family name, prefixed `portico_`.
    public let name: String
    /// The `# HELP` text.
    public let help: String
    /// The `# TYPE`.
    public let type: MetricType
    /// The names of the labels every sample carries, in order (`le` of histograms excluded).
    public let labels: [String]

    /// Creates a descriptor.
    public init(name: String, help: String, type: MetricType, labels: [String] = []) {
        self.name = name
        self.help = help
        self.type = type
        self.labels = labels
    }
}
