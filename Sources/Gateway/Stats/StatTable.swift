/// Counters of one kind (routes, upstreams or servers) addressed by slot on the hot path and by
/// key when merging.
///
/// Slots never move: the table only grows, by ``extend(to:blank:)`` to a ``StatKeys`` it is a
/// prefix of, or by ``merge(_:combining:)`` when the admin endpoint adds up workers' copies.
public struct StatTable<Key: Hashable & Sendable, Counters: Sendable>: Sendable {
    /// The key of each slot.
    public private(set) var keys: [Key] = []
    /// The counters of each slot.
    public private(set) var values: [Counters] = []

    /// Creates an empty table.
    public init() {}

    /// How many slots there are.
    public var count: Int { keys.count }

    /// The counters in `slot`; mutating through this subscript updates them in place.
    public subscript(slot: Int) -> Counters {
        _read { yield values[slot] }
        _modify { yield &values[slot] }
    }

    /// The counters of `key`, or nil when the table has no slot for it.
    public subscript(key: Key) -> Counters? {
        keys.firstIndex(of: key).map { values[$0] }
    }

    /// Grows the table to every key of `layout`, new slots starting as `blank`.
    ///
    /// The table's keys must be a prefix of `layout.keys`; anything else is a bug and traps.
    public mutating func extend(to layout: StatKeys<Key>, blank: Counters) {
        precondition(
            layout.count >= keys.count && layout.keys[..<keys.count].elementsEqual(keys),
            "stat tables only grow along their layout"
        )
        for key in layout.keys[keys.count...] {
            keys.append(key)
            values.append(blank)
        }
    }

    /// Adds `other`'s counters key by key with `combine`; keys new to this table are appended.
    public mutating func merge(
        _ other: StatTable,
        combining combine: (inout Counters, Counters) -> Void
    ) {
        if keys == other.keys {
            for slot in values.indices {
                combine(&values[slot], other.values[slot])
            }
            return
        }
        var slots: [Key: Int] = [:]
        for (slot, key) in keys.enumerated() {
            slots[key] = slot
        }
        for (key, counters) in zip(other.keys, other.values) {
            if let slot = slots[key] {
                combine(&values[slot], counters)
            } else {
                slots[key] = keys.count
                keys.append(key)
                values.append(counters)
            }
        }
    }
}
