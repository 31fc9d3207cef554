/// Writes compact JSON objects for `/stats`, keys taken from ``StatCatalog`` or from names
/// in the configuration.
struct StatsJSONWriter {
    private(set) var output: [UInt8] = []
    private var needsComma = false

    init() {
        output.reserveCapacity(4_096)
    }

    mutating func beginObject() {
        output.append(UInt8(ascii: "{"))
        needsComma = false
    }

    mutating func beginObject(_ stat: StatCatalog) {
        key(stat)
        beginObject()
    }

    mutating func beginObject(named name: String) {
        key(name)
        beginObject()
    }

    mutating func endObject() {
        output.append(UInt8(ascii: "}"))
        needsComma = true
    }

    mutating func field(_ stat: StatCatalog, _ value: UInt64) {
        field(named: Self.key(of: stat), value)
    }

    mutating func field(named name: String, _ value: UInt64) {
        key(name)
        output.append(contentsOf: String(value).utf8)
        needsComma = true
    }

    mutating func field(_ stat: StatCatalog, _ value: Int) {
        key(stat)
        output.append(contentsOf: String(value).utf8)
        needsComma = true
    }

    mutating func field(_ stat: StatCatalog, _ value: Bool) {
        key(stat)
        output.append(contentsOf: (value ? "true" : "false").utf8)
        needsComma = true
    }

    mutating func field(_ stat: StatCatalog, _ value: String?) {
        key(stat)
        if let value {
            StatsText.appendJSONString(value, to: &output)
        } else {
            output.append(contentsOf: "null".utf8)
        }
        needsComma = true
    }

    /// A number rounded to three decimals.
    mutating func field(_ stat: StatCatalog, decimal value: Double) {
        field(named: Self.key(of: stat), decimal: value)
    }

    /// A number rounded to three decimals.
    mutating func field(named name: String, decimal value: Double) {
        key(name)
        StatsText.appendDecimal(value, to: &output)
        needsComma = true
    }

    private mutating func key(_ stat: StatCatalog) {
        key(Self.key(of: stat))
    }

    private mutating func key(_ name: String) {
        if needsComma {
            output.append(UInt8(ascii: ","))
        }
        StatsText.appendJSONString(name, to: &output)
        output.append(UInt8(ascii: ":"))
        needsComma = false
    }

    private static func key(of stat: StatCatalog) -> String {
        guard let key = stat.jsonKey else {
            preconditionFailure("\(stat) has no /stats key")
        }
        return key
    }
}
