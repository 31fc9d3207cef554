/// A parsed JSON document, as RFC 8259 describes it.
///
/// Objects keep their members in file order and keep duplicate keys, so a validator can
/// report them; numbers keep their exact integer value when they have one.
public enum JSONValue: Sendable, Equatable {
    /// `null`.
    case null
    /// `true` or `false`.
    case bool(Bool)
    /// A number, with its exact integer value when it has one.
    case number(JSONNumber)
    /// A string, unescaped.
    case string(String)
    /// An array, in order.
    case array([JSONValue])
    /// An object's members in file order, duplicates kept.
    case object([(key: String, value: JSONValue)])

    /// Parses one JSON text (RFC 8259); a leading UTF-8 byte order mark is ignored.
    public init(parsing bytes: [UInt8]) throws(JSONSyntaxError) {
        var parser = JSONParser(bytes: bytes)
        self = try parser.parseDocument().value
    }

    /// Parses one JSON text given as a string.
    public init(parsing text: String) throws(JSONSyntaxError) {
        try self.init(parsing: Array(text.utf8))
    }

    /// A number holding the integer `value` exactly.
    public static func integer(_ value: Int) -> JSONValue {
        .number(JSONNumber(integer: Int64(value)))
    }

    /// A number holding `value`; non-finite values are written as `null`.
    public static func double(_ value: Double) -> JSONValue {
        .number(JSONNumber(value))
    }

    /// The value of the first member named `key`, if this is an object that has one.
    public subscript(key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        return members.first { $0.key == key }?.value
    }

    /// The string, if this is a string.
    public var stringValue: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    /// The exact integer, if this is a number with an integral value that fits `Int64`.
    public var integerValue: Int64? {
        if case .number(let number) = self { return number.integer }
        return nil
    }

    /// The elements, if this is an array.
    public var arrayValue: [JSONValue]? {
        if case .array(let elements) = self { return elements }
        return nil
    }

    /// Structural equality; objects are equal when their members are, in the same order.
    public static func == (lhs: JSONValue, rhs: JSONValue) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null):
            return true
        case (.bool(let left), .bool(let right)):
            return left == right
        case (.number(let left), .number(let right)):
            return left == right
        case (.string(let left), .string(let right)):
            return left == right
        case (.array(let left), .array(let right)):
            return left == right
        case (.object(let left), .object(let right)):
            return left.count == right.count
                && zip(left, right).allSatisfy { $0.key == $1.key && $0.value == $1.value }
        default:
            return false
        }
    }
}

/// A JSON number: its floating-point value plus, when it is integral, its exact integer.
public struct JSONNumber: Sendable, Equatable {
    /// The value as a double (may be rounded for integers beyond 2^53).
    public var double: Double
    /// The exact value when the number is integral and fits `Int64`, else nil.
    public var integer: Int64?

    /// A number holding an integer exactly.
    public init(integer: Int64) {
        self.double = Double(integer)
        self.integer = integer
    }

    /// A number holding `double`; it counts as integral when it is a whole number within ±2^53.
    public init(_ double: Double) {
        self.double = double
        self.integer = JSONNumber.exactInteger(double)
    }

    init(double: Double, integer: Int64?) {
        self.double = double
        self.integer = integer
    }

    static func exactInteger(_ double: Double) -> Int64? {
        let limit = 9_007_199_254_740_992.0
        guard double.isFinite, double.rounded(.towardZero) == double, abs(double) <= limit else {
            return nil
        }
        return Int64(double)
    }
}

/// A syntax error in a JSON text, located by line and column (both 1-based, columns in characters).
public struct JSONSyntaxError: Error, Sendable, Equatable, CustomStringConvertible {
    /// 1-based line of the offending character.
    public var line: Int
    /// 1-based column of the offending character, counted in Unicode scalars.
    public var column: Int
    /// What is wrong, e.g. `expected ',' or '}'`.
    public var message: String

    /// Creates an error at a line and column.
    public init(line: Int, column: Int, message: String) {
        self.line = line
        self.column = column
        self.message = message
    }

    /// `line L column C: message`.
    public var description: String {
        "line \(line) column \(column): \(message)"
    }
}
