import Gateway
import Testing

@Suite struct StatsReportPrometheusTests {
    private func parse(_ report: StatsReport) throws -> [PrometheusFamily] {
        try PrometheusText.parse(String(decoding: report.renderPrometheus(), as: UTF8.self))
    }

    private func value(
        _ families: [PrometheusFamily], _ name: String, _ labels: [String: String] = [:]
    ) -> Double? {
        families.lazy.flatMap(\.samples).first { $0.name == name && $0.labels == labels }?.value
    }

    @Test func everyCatalogFamilyAppearsOnceWithHelpAndType() throws {
        let families = try parse(StatsReportFixtures.specExample())
        let expected = StatCatalog.allCases.compactMap(\.metric)
        #expect(families.map(\.name) == expected.map(\.name))
        #expect(families.map(\.type) == expected.map(\.type.rawValue))
        #expect(families.allSatisfy { !$0.help.isEmpty })
    }

    @Test func samplesCarryTheReportedCounts() throws {
        let families = try parse(StatsReportFixtures.specExample())
        let server = ["upstream": "users", "server": "127.0.0.1:9001"]
        #expect(value(families, "portico_requests_total", ["route": "users-api", "code_class": "2xx"]) == 95)
        #expect(value(families, "portico_requests_total", ["route": "users-api", "code_class": "5xx"]) == 3)
        #expect(value(families, "portico_requests_total", ["route": "users-api", "code_class": "1xx"]) == 0)
        #expect(value(families, "portico_rate_limited_total", ["route": "users-api"]) == 2)
        #expect(value(families, "portico_retries_total", ["route": "users-api"]) == 4)
        #expect(value(families, "portico_upstream_requests_total", server) == 50)
        #expect(value(families, "portico_upstream_failures_total", server) == 1)
        #expect(value(families, "portico_upstream_healthy", server) == 1)
        #expect(value(families, "portico_circuit_open", server) == 0)
        #expect(value(families, "portico_upstream_idle_connections", server) == 4)
        #expect(value(families, "portico_upstream_pending", ["upstream": "users"]) == 0)
        #expect(value(families, "portico_connections_active") == 3)
        #expect(value(families, "portico_connections_accepted_total") == 120)
        #expect(value(families, "portico_connections_rejected_total") == 0)
        #expect(value(families, "portico_requests_active") == 2)
        #expect(value(families, "portico_config_generation") == 1)
        #expect(value(families, "portico_config_reloads_total", ["result": "success"]) == 0)
        #expect(value(families, "portico_config_reloads_total", ["result": "failure"]) == 0)
        #expect(value(families, "portico_access_log_lines_total", ["result": "written"]) == 998)
        #expect(value(families, "portico_access_log_lines_total", ["result": "dropped"]) == 0)
        #expect(value(families, "portico_uptime_seconds") == 12.5)
        #expect(value(families, "portico_workers") == 2)
    }

    @Test func durationHistogramIsCumulativeAndEndsWithTheCount() throws {
        let families = try parse(StatsReportFixtures.specExample())
        let histograms = try PrometheusText.checkHistograms(families)
        let route = try #require(histograms["portico_request_duration_seconds"]?[["route": "users-api"]])
        #expect(route.count == 100)
        #expect(abs(route.sum - 0.197504) < 1e-9)
        #expect(route.buckets.map(\.bound) == LatencyHistogram.defaultUpperBoundsSeconds)
        let byBound = Dictionary(uniqueKeysWithValues: route.buckets.map { ($0.bound, $0.count) })
        #expect(byBound[0.001] == 0)
        #expect(byBound[0.0025] == 90)
        #expect(byBound[0.01] == 99)
        #expect(byBound[0.025] == 100)
    }

    @Test func aMissingInfinityBucketIsAdded() throws {
        var report = StatsReportFixtures.specExample()
        report.durationBucketsSeconds = [0.002, 0.5]
        let histograms = try PrometheusText.checkHistograms(try parse(report))
        let route = try #require(histograms["portico_request_duration_seconds"]?[["route": "users-api"]])
        #expect(route.buckets.map(\.bound) == [0.002, 0.5, .infinity])
        #expect(route.buckets.map(\.count) == [90, 100, 100])
    }

    @Test func labelValuesAreEscaped() throws {
        var report = StatsReport(version: "x")
        let name = "a\"b\\c\nd"
        report.routes = [StatsReport.Route(name: name)]
        report.routes[0].rateLimited = 7
        let text = String(decoding: report.renderPrometheus(), as: UTF8.self)
        #expect(text.contains(#"portico_rate_limited_total{route="a\"b\\c\nd"} 7"# + "\n"))
        let families = try PrometheusText.parse(text)
        #expect(value(families, "portico_rate_limited_total", ["route": name]) == 7)
        _ = try PrometheusText.checkHistograms(families)
    }

    @Test func anEmptyReportIsStillValid() throws {
        let families = try parse(StatsReport(version: "x"))
        #expect(families.count == StatCatalog.allCases.compactMap(\.metric).count)
        #expect(families.first { $0.name == "portico_requests_total" }?.samples.isEmpty == true)
        #expect(value(families, "portico_connections_active") == 0)
    }

    @Test func sampleLinesHaveTheExpectedSpelling() {
        var report = StatsReport(version: "x")
        report.routes = [StatsReport.Route(name: "r")]
        report.routes[0].latency.record(nanoseconds: 1_500_000)
        let lines = String(decoding: report.renderPrometheus(), as: UTF8.self).split(separator: "\n")
        #expect(lines.contains("# TYPE portico_request_duration_seconds histogram"))
        #expect(lines.contains(#"portico_request_duration_seconds_bucket{route="r",le="0.001"} 0"#))
        #expect(lines.contains(#"portico_request_duration_seconds_bucket{route="r",le="1"} 1"#))
        #expect(lines.contains(#"portico_request_duration_seconds_bucket{route="r",le="+Inf"} 1"#))
        #expect(lines.contains(#"portico_request_duration_seconds_sum{route="r"} 0.0015"#))
        #expect(lines.contains(#"portico_request_duration_seconds_count{route="r"} 1"#))
        #expect(lines.contains("portico_config_generation 0"))
    }
}

/// A family read back from Prometheus text.
private struct PrometheusFamily {
    var name: String
    var help: String
    var type: String = ""
    var samples: [PrometheusSample] = []
}

/// One sample line read back from Prometheus text.
private struct PrometheusSample {
    var name: String
    var labels: [String: String]
    var value: Double
}

/// One labelled series of a histogram family, checked.
private struct PrometheusHistogram {
    var buckets: [(bound: Double, count: Double)]
    var sum: Double
    var count: Double
}

private struct PrometheusTextError: Error, CustomStringConvertible {
    var description: String
}

/// A strict reader for the subset of text format 0.0.4 the gateway writes: every family is
/// introduced by `# HELP` then `# TYPE`, and its samples follow without interleaving.
private enum PrometheusText {
    static func parse(_ text: String) throws -> [PrometheusFamily] {
        guard text.hasSuffix("\n") else { throw PrometheusTextError(description: "no final line feed") }
        var families: [PrometheusFamily] = []
        for line in text.dropLast().split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("# HELP ") {
                let rest = line.dropFirst("# HELP ".count)
                guard let space = rest.firstIndex(of: " ") else {
                    throw PrometheusTextError(description: "HELP without text: \(line)")
                }
                let name = String(rest[..<space])
                guard !families.contains(where: { $0.name == name }) else {
                    throw PrometheusTextError(description: "family \(name) appears twice")
                }
                families.append(
                    PrometheusFamily(name: name, help: unescapeHelp(rest[rest.index(after: space)...])))
            } else if line.hasPrefix("# TYPE ") {
                let parts = line.dropFirst("# TYPE ".count).split(separator: " ")
                guard var family = families.popLast(), parts.count == 2, String(parts[0]) == family.name,
                    family.type.isEmpty, family.samples.isEmpty,
                    ["counter", "gauge", "histogram", "summary", "untyped"].contains(String(parts[1]))
                else {
                    throw PrometheusTextError(description: "TYPE out of place: \(line)")
                }
                family.type = String(parts[1])
                families.append(family)
            } else if line.hasPrefix("#") || line.isEmpty {
                throw PrometheusTextError(description: "unexpected line: \(line)")
            } else {
                let sample = try parseSample(Array(line.utf8))
                guard var family = families.popLast(), !family.type.isEmpty,
                    belongs(sample.name, to: family)
                else {
                    throw PrometheusTextError(description: "sample before its HELP and TYPE: \(line)")
                }
                family.samples.append(sample)
                families.append(family)
            }
        }
        return families
    }

    /// Checks every histogram family and returns its series keyed by family name and labels.
    static func checkHistograms(
        _ families: [PrometheusFamily]
    ) throws -> [String: [[String: String]: PrometheusHistogram]] {
        var result: [String: [[String: String]: PrometheusHistogram]] = [:]
        for family in families where family.type == "histogram" {
            var series: [[String: String]: PrometheusHistogram] = [:]
            for sample in family.samples where sample.name == family.name + "_bucket" {
                var labels = sample.labels
                guard let le = labels.removeValue(forKey: "le"), let bound = parseValue(le) else {
                    throw PrometheusTextError(description: "bucket without le in \(family.name)")
                }
                series[labels, default: PrometheusHistogram(buckets: [], sum: .nan, count: .nan)]
                    .buckets.append((bound, sample.value))
            }
            for sample in family.samples where sample.name != family.name + "_bucket" {
                guard series[sample.labels] != nil else {
                    throw PrometheusTextError(description: "\(sample.name) without buckets")
                }
                if sample.name == family.name + "_sum" {
                    series[sample.labels]?.sum = sample.value
                } else {
                    series[sample.labels]?.count = sample.value
                }
            }
            for (labels, histogram) in series {
                let bounds = histogram.buckets.map(\.bound)
                let counts = histogram.buckets.map(\.count)
                guard zip(bounds, bounds.dropFirst()).allSatisfy({ $0 < $1 }),
                    zip(counts, counts.dropFirst()).allSatisfy({ $0 <= $1 }),
                    bounds.last == .infinity, counts.last == histogram.count, !histogram.sum.isNaN
                else {
                    throw PrometheusTextError(description: "bad histogram \(family.name) \(labels)")
                }
            }
            result[family.name] = series
        }
        return result
    }

    private static func belongs(_ sampleName: String, to family: PrometheusFamily) -> Bool {
        if family.type == "histogram" {
            return ["_bucket", "_sum", "_count"].contains { sampleName == family.name + $0 }
        }
        return sampleName == family.name
    }

    private static func unescapeHelp(_ text: Substring) -> String {
        var result = ""
        var escaped = false
        for character in text {
            if escaped {
                result.append(character == "n" ? "\n" : character)
                escaped = false
            } else if character == "\\" {
                escaped = true
            } else {
                result.append(character)
            }
        }
        return result
    }

    private static func parseValue(_ text: String) -> Double? {
        switch text {
        case "+Inf": .infinity
        case "-Inf": -.infinity
        case "NaN": .nan
        default: Double(text)
        }
    }

    private static func isNameByte(_ byte: UInt8, first: Bool) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "_"),
            UInt8(ascii: ":"):
            true
        case UInt8(ascii: "0")...UInt8(ascii: "9"):
            !first
        default:
            false
        }
    }

    private static func parseSample(_ line: [UInt8]) throws -> PrometheusSample {
        var position = 0
        func fail(_ why: String) -> PrometheusTextError {
            PrometheusTextError(description: "\(why) in: \(String(decoding: line, as: UTF8.self))")
        }
        func name() throws -> String {
            let start = position
            while position < line.count, isNameByte(line[position], first: position == start) {
                position += 1
            }
            guard position > start else { throw fail("missing name") }
            return String(decoding: line[start..<position], as: UTF8.self)
        }
        func expect(_ byte: UInt8) throws {
            guard position < line.count, line[position] == byte else {
                throw fail("expected \(Character(UnicodeScalar(byte)))")
            }
            position += 1
        }

        let metricName = try name()
        var labels: [String: String] = [:]
        if position < line.count, line[position] == UInt8(ascii: "{") {
            position += 1
            while true {
                let labelName = try name()
                try expect(UInt8(ascii: "="))
                try expect(UInt8(ascii: "\""))
                var value: [UInt8] = []
                while true {
                    guard position < line.count else { throw fail("unterminated label value") }
                    let byte = line[position]
                    position += 1
                    if byte == UInt8(ascii: "\"") {
                        break
                    }
                    if byte == UInt8(ascii: "\\") {
                        guard position < line.count else { throw fail("dangling escape") }
                        switch line[position] {
                        case UInt8(ascii: "\\"), UInt8(ascii: "\""): value.append(line[position])
                        case UInt8(ascii: "n"): value.append(UInt8(ascii: "\n"))
                        default: throw fail("unknown escape")
                        }
                        position += 1
                    } else {
                        value.append(byte)
                    }
                }
                guard labels.updateValue(String(decoding: value, as: UTF8.self), forKey: labelName) == nil
                else {
                    throw fail("repeated label")
                }
                if position < line.count, line[position] == UInt8(ascii: ",") {
                    position += 1
                    continue
                }
                try expect(UInt8(ascii: "}"))
                break
            }
        }
        try expect(UInt8(ascii: " "))
        let text = String(decoding: line[position...], as: UTF8.self)
        guard let value = parseValue(text) else { throw fail("bad value") }
        return PrometheusSample(name: metricName, labels: labels, value: value)
    }
}
