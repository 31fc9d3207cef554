/// Writes Prometheus text format 0.0.4: `# HELP` and `# TYPE` once per family, then its samples
/// as `name{label="value",...} value` lines.
struct PrometheusWriter {
    private(set) var output: [UInt8] = []

    init() {
        output.reserveCapacity(16_384)
    }

    mutating func family(_ metric: MetricDescriptor) {
        output.append(contentsOf: "# HELP \(metric.name) ".utf8)
        StatsText.appendHelp(metric.help, to: &output)
        output.append(contentsOf: "\n# TYPE \(metric.name) \(metric.type.rawValue)\n".utf8)
    }

    mutating func sample(_ metric: MetricDescriptor, _ labelValues: [String], _ value: UInt64) {
        writeSeries(metric, labelValues)
        output.append(contentsOf: String(value).utf8)
        output.append(UInt8(ascii: "\n"))
    }

    mutating func sample(_ metric: MetricDescriptor, _ labelValues: [String], _ value: Int) {
        writeSeries(metric, labelValues)
        output.append(contentsOf: String(value).utf8)
        output.append(UInt8(ascii: "\n"))
    }

    mutating func sample(_ metric: MetricDescriptor, _ labelValues: [String], float value: Double) {
        writeSeries(metric, labelValues)
        StatsText.appendFloat(value, to: &output)
        output.append(UInt8(ascii: "\n"))
    }

    /// The `_bucket` samples for `bounds` (a final `+Inf` is added when missing), `_sum` in
    /// seconds and `_count`.
    mutating func histogram(
        _ metric: MetricDescriptor, _ labelValues: [String], _ histogram: LatencyHistogram,
        bounds: [Double]
    ) {
        var bounds = bounds
        if bounds.last != .infinity {
            bounds.append(.infinity)
        }
        for (bound, count) in zip(bounds, histogram.bucketCounts(upperBoundsSeconds: bounds)) {
            writeSeries(metric, labelValues, suffix: "_bucket", bucketBound: bound)
            output.append(contentsOf: String(count).utf8)
            output.append(UInt8(ascii: "\n"))
        }
        writeSeries(metric, labelValues, suffix: "_sum")
        StatsText.appendFloat(histogram.sumSeconds, to: &output)
        output.append(UInt8(ascii: "\n"))
        writeSeries(metric, labelValues, suffix: "_count")
        output.append(contentsOf: String(histogram.count).utf8)
        output.append(UInt8(ascii: "\n"))
    }

    /// Writes `name{labels} ` up to the value.
    private mutating func writeSeries(
        _ metric: MetricDescriptor, _ labelValues: [String], suffix: String = "",
        bucketBound: Double? = nil
    ) {
        precondition(labelValues.count == metric.labels.count, "\(metric.name) needs \(metric.labels)")
        output.append(contentsOf: metric.name.utf8)
        output.append(contentsOf: suffix.utf8)
        if !labelValues.isEmpty || bucketBound != nil {
            output.append(UInt8(ascii: "{"))
            for (index, (name, value)) in zip(metric.labels, labelValues).enumerated() {
                if index > 0 {
                    output.append(UInt8(ascii: ","))
                }
                output.append(contentsOf: "\(name)=\"".utf8)
                StatsText.appendLabelValue(value, to: &output)
                output.append(UInt8(ascii: "\""))
            }
            if let bucketBound {
                if !labelValues.isEmpty {
                    output.append(UInt8(ascii: ","))
                }
                // The bucket bound label is named `le` by the format itself.
                output.append(contentsOf: "le=\"".utf8)
                StatsText.appendFloat(bucketBound, to: &output)
                output.append(UInt8(ascii: "\""))
            }
            output.append(UInt8(ascii: "}"))
        }
        output.append(UInt8(ascii: " "))
    }
}
