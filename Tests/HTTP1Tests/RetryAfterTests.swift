import Testing

@testable import HTTP1

@Suite struct RetryAfterTests {
    private func seconds(_ text: String, now: Int64 = 784_111_777) -> Int64? {
        Array(text.utf8).withUnsafeBytes { RetryAfter.seconds($0, nowEpochSeconds: now) }
    }

    @Test(arguments: [
        ("120", 120 as Int64?), ("0", 0), ("007", 7), ("99999999", 86_400),
        ("", nil), ("-1", nil), ("1.5", nil), (" 5", nil), ("5s", nil), ("0x10", nil),
    ])
    func deltaSeconds(text: String, expected: Int64?) {
        #expect(seconds(text) == expected)
    }

    @Test func imfFixdatesAreSecondsFromNow() {
        // RFC 9110's example date is 784111777 seconds after 1970.
        #expect(seconds("Sun, 06 Nov 1994 08:49:37 GMT", now: 784_111_777) == 0)
        #expect(seconds("Sun, 06 Nov 1994 08:50:37 GMT", now: 784_111_777) == 60)
        #expect(seconds("Sun, 06 Nov 1994 08:48:37 GMT", now: 784_111_777) == 0, "a past date means now")
        #expect(seconds("Thu, 01 Jan 1970 00:00:00 GMT", now: 0) == 0)
        #expect(seconds("Sat, 29 Feb 2028 12:00:00 GMT", now: 0) == 1_835_438_400)
        #expect(seconds("Fri, 31 Dec 9999 23:59:59 GMT", now: 0) == 253_402_300_799)
    }

    @Test(arguments: [
        "Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994", "Sun, 06 nov 1994 08:49:37 GMT",
        "Sun, 06 Nov 1994 08:49:37 UTC", "Sun, 32 Nov 1994 08:49:37 GMT", "Sun, 06 Nov 1994 24:00:00 GMT",
        "Sun, 06 Nov 1994 08:49:37 GMT ",
    ])
    func otherFormsAreRefused(text: String) {
        #expect(seconds(text) == nil)
    }
}
