/// An ordered, append-only set of stat keys (route names, upstream names, servers): a key keeps
/// its slot for the life of the value, so a slot handed out under one configuration generation
/// still names the same thing under the next.
public struct StatKeys<Key: Hashable & Sendable>: Sendable {
    /// The keys in slot order.
    public private(set) var keys: [Key] = []
    private var slots: [Key: Int] = [:]

    /// Creates an empty set.
    public init() {}

    /// Creates the set of `keys` in order, dropping repeats.
    public init(_ keys: some Sequence<Key>) {
        for key in keys {
            insert(key)
        }
    }

    /// How many keys there are.
    public var count: Int { keys.count }

    /// The slot of `key`, or nil when it was never inserted.
    public func slot(of key: Key) -> Int? {
        slots[key]
    }

    /// The slot of `key`, appending it first when it is new.
    @discardableResult
    public mutating func insert(_ key: Key) -> Int {
        if let slot = slots[key] {
            return slot
        }
        keys.append(key)
        slots[key] = keys.count - 1
        return keys.count - 1
    }
}
