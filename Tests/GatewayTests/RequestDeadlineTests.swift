import Testing

@testable import Gateway

@Suite struct RequestDeadlineTests {
    private func budget(_ routeMs: Int, _ header: String?) -> TimeSpan? {
        guard let header else {
            return RequestDeadline.budget(routeTimeout: .milliseconds(routeMs), clientHeader: nil)
        }
        return Array(header.utf8).withUnsafeBytes {
            RequestDeadline.budget(routeTimeout: .milliseconds(routeMs), clientHeader: $0)
        }
    }

    @Test(arguments: [
        // route timeout, client header, budget (ms; nil: none)
        (15000, nil as String?, 15000 as Int?),
        (15000, "200", 200),
        (200, "15000", 200),
        (0, nil, nil),
        (0, "300", 300),
        (15000, "0", 15000),
        (15000, "-5", 15000),
        (15000, " 5", 15000),
        (15000, "5ms", 15000),
        (15000, "1234567890123", 15000),
        (15000, "", 15000),
    ])
    func theClientCanOnlyShortenTheRouteTimeout(route: Int, header: String?, expected: Int?) {
        #expect(budget(route, header) == expected.map { .milliseconds($0) })
    }
}
