import Gateway
import Testing

@Suite struct StatsCatalogTests {
    private let metrics = StatCatalog.allCases.compactMap(\.metric)

    @Test func everyStatIsNamedSomewhere() {
        for stat in StatCatalog.allCases {
            #expect(stat.jsonKey != nil || stat.metric != nil, "\(stat)")
        }
    }

    @Test func metricNamesAreUniqueAndPrefixed() {
        #expect(Set(metrics.map(\.name)).count == metrics.count)
        for metric in metrics {
            #expect(metric.name.hasPrefix("portico_"))
            #expect(metric.name.utf8.allSatisfy { $0 == UInt8(ascii: "_") || (97...122).contains($0) })
            #expect(!metric.help.isEmpty)
        }
    }

    @Test func countersEndInTotalAndOthersDoNot() {
        for metric in metrics {
            #expect(metric.name.hasSuffix("_total") == (metric.type == .counter), "\(metric.name)")
        }
    }

    @Test func outcomesOfAFamilyHaveResultLabels() {
        #expect(StatCatalog.configReloads.metric?.labels == ["result"])
        #expect(StatCatalog.accessLog.metric?.labels == ["result"])
        #expect(StatCatalog.reloadsSucceeded.resultLabel == "success")
        #expect(StatCatalog.reloadsFailed.resultLabel == "failure")
        #expect(StatCatalog.accessLogWritten.resultLabel == "written")
        #expect(StatCatalog.accessLogDropped.resultLabel == "dropped")
    }
}
