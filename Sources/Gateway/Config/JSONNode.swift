/// A JSON value together with the byte offset where it starts, so configuration errors can be
/// sorted into file order.
struct JSONNode {
    /// One object member with the offset of its key.
    struct Member {
        var key: String
        var keyOffset: Int
        var value: JSONNode
    }

    enum Kind {
        case null
        case bool(Bool)
        case number(JSONNumber)
        case string(String)
        case array([JSONNode])
        case object([Member])
    }

    /// Offset of the value's first byte.
    var offset: Int
    /// Offset of the value's last byte (the closing bracket of an object or array).
    var lastOffset: Int
    var kind: Kind

    /// The value without positions.
    var value: JSONValue {
        switch kind {
        case .null:
            return .null
        case .bool(let value):
            return .bool(value)
        case .number(let value):
            return .number(value)
        case .string(let value):
            return .string(value)
        case .array(let elements):
            return .array(elements.map(\.value))
        case .object(let members):
            return .object(members.map { (key: $0.key, value: $0.value.value) })
        }
    }

    /// A short name of the kind for messages such as `expected a string, found a number`.
    var kindName: String {
        switch kind {
        case .null: return "null"
        case .bool: return "a boolean"
        case .number: return "a number"
        case .string: return "a string"
        case .array: return "an array"
        case .object: return "an object"
        }
    }
}

extension JSONNode {
    /// The exact integer, if this is an integral number.
    var integerValue: Int64? {
        if case .number(let number) = kind { return number.integer }
        return nil
    }
}
