/// The `Retry-After` field (RFC 9110 §10.2.3): a delay in seconds, or an HTTP-date.
package enum RetryAfter {
    /// The delay in whole seconds the value asks for at `nowEpochSeconds`: delta-seconds as
    /// given, or the time until an IMF-fixdate (0 when that date has passed); nil when the
    /// value is neither. The two obsolete date formats are not accepted (a sender must not
    /// generate them, RFC 9110 §5.6.7).
    package static func seconds(_ value: UnsafeRawBufferPointer, nowEpochSeconds: Int64) -> Int64? {
        if let delta = deltaSeconds(value) { return delta }
        guard let date = imfFixdateEpochSeconds(value) else { return nil }
        return max(0, date - nowEpochSeconds)
    }

    /// 1*DIGIT, capped at a day (a longer wait is never honoured anyway).
    static func deltaSeconds(_ value: UnsafeRawBufferPointer) -> Int64? {
        guard !value.isEmpty, value.count <= 18 else { return nil }
        var seconds: Int64 = 0
        for byte in value {
            guard byte &- UInt8(ascii: "0") < 10 else { return nil }
            seconds = seconds * 10 + Int64(byte &- UInt8(ascii: "0"))
        }
        return min(seconds, 86_400)
    }

    /// Seconds since 1970 of an IMF-fixdate such as `Sun, 06 Nov 1994 08:49:37 GMT`.
    static func imfFixdateEpochSeconds(_ value: UnsafeRawBufferPointer) -> Int64? {
        // "Sun, 06 Nov 1994 08:49:37 GMT" is exactly 29 bytes.
        guard value.count == 29, value[3] == UInt8(ascii: ","), value[4] == 0x20, value[7] == 0x20,
            value[11] == 0x20, value[16] == 0x20, value[19] == UInt8(ascii: ":"),
            value[22] == UInt8(ascii: ":"), value[25] == 0x20, value[26] == UInt8(ascii: "G"),
            value[27] == UInt8(ascii: "M"), value[28] == UInt8(ascii: "T"),
            let day = digits(value, 5, 2), let year = digits(value, 12, 4), let hour = digits(value, 17, 2),
            let minute = digits(value, 20, 2), let second = digits(value, 23, 2),
            let month = month(value, 8),
            (1...31).contains(day), hour < 24, minute < 60, second < 61
        else { return nil }
        return days(fromCivilYear: year, month: month, day: day) * 86_400 + hour * 3600 + minute * 60 + second
    }

    private static func digits(_ value: UnsafeRawBufferPointer, _ start: Int, _ count: Int) -> Int64? {
        var result: Int64 = 0
        for index in start..<(start + count) {
            let digit = value[index] &- UInt8(ascii: "0")
            guard digit < 10 else { return nil }
            result = result * 10 + Int64(digit)
        }
        return result
    }

    private static let monthNames: [(UInt8, UInt8, UInt8)] = [
        (0x4A, 0x61, 0x6E), (0x46, 0x65, 0x62), (0x4D, 0x61, 0x72), (0x41, 0x70, 0x72),
        (0x4D, 0x61, 0x79), (0x4A, 0x75, 0x6E), (0x4A, 0x75, 0x6C), (0x41, 0x75, 0x67),
        (0x53, 0x65, 0x70), (0x4F, 0x63, 0x74), (0x4E, 0x6F, 0x76), (0x44, 0x65, 0x63),
    ]

    /// 1...12 for "Jan"..."Dec" (case-sensitive, as RFC 9110 §5.6.7 defines them).
    private static func month(_ value: UnsafeRawBufferPointer, _ start: Int) -> Int64? {
        let name = (value[start], value[start + 1], value[start + 2])
        for (index, candidate) in monthNames.enumerated() where candidate == name { return Int64(index + 1) }
        return nil
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
    private static func days(fromCivilYear year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }
}
