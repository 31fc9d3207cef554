/// Number formatting for the results table (the benchmark avoids Foundation).
enum NumberText {
    /// `value` with `digits` decimals.
    static func fixed(_ value: Double, _ digits: Int) -> String {
        var scale = 1
        for _ in 0..<digits { scale *= 10 }
        let scaled = Int((value * Double(scale)).rounded())
        guard digits > 0 else { return String(scaled) }
        var fraction = String(scaled % scale)
        while fraction.count < digits { fraction = "0" + fraction }
        return String(scaled / scale) + "." + fraction
    }

    /// `value` rounded to a whole number, thousands separated by commas.
    static func grouped(_ value: Double) -> String {
        var digits = String(Int(value.rounded()))
        var groups: [String] = []
        while digits.count > 3 {
            groups.insert(String(digits.suffix(3)), at: 0)
            digits.removeLast(3)
        }
        groups.insert(digits, at: 0)
        return groups.joined(separator: ",")
    }
}
