/// Turns a JSON tree into configuration values, collecting every problem instead of stopping.
///
/// Each reader returns a usable value (the default, or nil) even when it reports a problem, so
/// decoding goes on and reports the rest of the file too.
struct ConfigDecoder {
    var problems = ConfigProblems()
    let resolve: HostResolver

    init(resolve: @escaping HostResolver) {
        self.resolve = resolve
    }

    mutating func report(_ path: String, _ message: String, at offset: Int) {
        problems.add(path, message, at: offset)
    }

    /// Reads an object, reporting a wrong type, unknown keys and duplicate keys.
    mutating func object(_ node: JSONNode, at path: String, keys: Set<String>) -> ConfigObject? {
        guard case .object(let members) = node.kind else {
            report(path, "expected an object", at: node.offset)
            return nil
        }
        var seen: Set<String> = []
        for member in members {
            let memberPath = ConfigObject.join(path, member.key)
            if !seen.insert(member.key).inserted {
                report(memberPath, "duplicate key", at: member.keyOffset)
            } else if !keys.contains(member.key) {
                report(memberPath, "unknown key", at: member.keyOffset)
            }
        }
        return ConfigObject(path: path, offset: node.offset, lastOffset: node.lastOffset, members: members)
    }

    /// The value under `key` unless absent or null.
    func optional(_ object: ConfigObject, _ key: String) -> JSONNode? {
        guard let node = object[key] else { return nil }
        if case .null = node.kind {
            return nil
        }
        return node
    }

    /// The value under `key`; reports `missing required key` when absent.
    mutating func required(_ object: ConfigObject, _ key: String) -> JSONNode? {
        guard let node = object[key] else {
            report(object.path(key), "missing required key", at: object.lastOffset)
            return nil
        }
        return node
    }

    /// A nested object under `key`, or nil when absent or null.
    mutating func nested(_ object: ConfigObject, _ key: String, keys: Set<String>) -> ConfigObject? {
        guard let node = optional(object, key) else { return nil }
        return self.object(node, at: object.path(key), keys: keys)
    }

    /// An array under `key`, or nil when absent, null or of the wrong type (reported).
    mutating func array(_ object: ConfigObject, _ key: String) -> [JSONNode]? {
        guard let node = optional(object, key) else { return nil }
        return array(node, at: object.path(key))
    }

    mutating func array(_ node: JSONNode, at path: String) -> [JSONNode]? {
        guard case .array(let elements) = node.kind else {
            report(path, "expected an array", at: node.offset)
            return nil
        }
        return elements
    }

    mutating func string(_ node: JSONNode, at path: String) -> String? {
        guard case .string(let value) = node.kind else {
            report(path, "expected a string", at: node.offset)
            return nil
        }
        return value
    }

    /// A string under `key`, or nil when absent, null or of the wrong type (reported).
    mutating func string(_ object: ConfigObject, _ key: String) -> String? {
        guard let node = optional(object, key) else { return nil }
        return string(node, at: object.path(key))
    }

    /// A boolean under `key`, or `fallback` when absent, null or of the wrong type (reported).
    mutating func bool(_ object: ConfigObject, _ key: String, default fallback: Bool) -> Bool {
        guard let node = optional(object, key) else { return fallback }
        guard case .bool(let value) = node.kind else {
            report(object.path(key), "expected true or false", at: node.offset)
            return fallback
        }
        return value
    }

    /// A non-negative integer in `minimum...maximum`, or nil after reporting why not.
    mutating func integer(_ node: JSONNode, at path: String, minimum: Int = 0, maximum: Int = .max) -> Int? {
        guard case .number(let number) = node.kind, let exact = number.integer, exact >= 0,
            let value = Int(exactly: exact)
        else {
            report(path, "expected a non-negative integer", at: node.offset)
            return nil
        }
        if value < minimum {
            report(path, "must be at least \(minimum)", at: node.offset)
            return nil
        }
        if value > maximum {
            report(path, "must be at most \(maximum)", at: node.offset)
            return nil
        }
        return value
    }

    /// An integer under `key`, `fallback` when absent or null, and `fallback` after reporting a
    /// wrong type or a value out of range.
    mutating func integer(
        _ object: ConfigObject, _ key: String, default fallback: Int, minimum: Int = 0, maximum: Int = .max
    ) -> Int {
        guard let node = optional(object, key) else { return fallback }
        return integer(node, at: object.path(key), minimum: minimum, maximum: maximum) ?? fallback
    }

    /// A duration in milliseconds under `key` (the `...Ms` keys).
    mutating func milliseconds(
        _ object: ConfigObject, _ key: String, default fallback: Int, minimum: Int = 0
    ) -> TimeSpan {
        .milliseconds(integer(object, key, default: fallback, minimum: minimum))
    }

    /// A finite number under `key`, `fallback` when absent or null or after reporting a wrong type.
    mutating func number(_ object: ConfigObject, _ key: String, default fallback: Double) -> Double {
        guard let node = optional(object, key) else { return fallback }
        guard case .number(let number) = node.kind else {
            report(object.path(key), "expected a number", at: node.offset)
            return fallback
        }
        return number.double
    }

    /// The element paths and nodes of an array, for loops that report per element.
    func elements(_ nodes: [JSONNode], at path: String) -> [(path: String, node: JSONNode)] {
        nodes.enumerated().map { (ConfigObject.element(path, $0.offset), $0.element) }
    }
}
