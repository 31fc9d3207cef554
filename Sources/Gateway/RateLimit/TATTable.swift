/// Key → TAT for one shard of a `LocalRateLimitStore`: open addressing with linear probing
/// over two flat arrays, indexed by the key's low bits. Keys are already uniform 64-bit
/// hashes (`RateLimitKeys`), so no hashing happens here: a lookup is a mask and a compare
/// or two, where a `Dictionary` would hash the key again.
struct TATTable {
    /// 0 marks an empty slot; a key of 0 is stored as another constant (its bucket is then
    /// shared with that key, a 2⁻⁶⁴ coincidence for hashed keys).
    private var keys: [UInt64]
    private var tats: [UInt64]
    private(set) var count = 0

    init(capacity: Int = 16) {
        var size = 16
        while size < capacity * 2 { size *= 2 }
        keys = Array(repeating: 0, count: size)
        tats = Array(repeating: 0, count: size)
    }

    /// The slot holding `key`, or where it would go.
    @inline(__always)
    private func slot(of key: UInt64) -> Int {
        let mask = keys.count &- 1
        var index = Int(truncatingIfNeeded: key) & mask
        while true {
            let found = keys[index]
            if found == key || found == 0 { return index }
            index = (index &+ 1) & mask
        }
    }

    @inline(__always)
    private static func stored(_ key: UInt64) -> UInt64 { key == 0 ? 0x9E37_79B9_7F4A_7C15 : key }

    /// The key's TAT, or nil when it is not tracked.
    @inline(__always)
    func tat(of key: UInt64) -> UInt64? {
        let index = slot(of: Self.stored(key))
        return keys[index] == 0 ? nil : tats[index]
    }

    /// Decides for a key with `body` given its TAT (nil: not tracked), storing the TAT it
    /// returns for a tracked key: one probe for the usual case of a key seen before.
    @inline(__always)
    mutating func update<R>(_ key: UInt64, _ body: (UInt64?) -> (R, UInt64?)) -> R {
        let stored = Self.stored(key)
        let index = slot(of: stored)
        if keys[index] == 0 { return body(nil).0 }
        let (result, tat) = body(tats[index])
        if let tat { tats[index] = tat }
        return result
    }

    /// Sets the TAT of a tracked key, or tracks a new one.
    @inline(__always)
    mutating func set(_ key: UInt64, tat: UInt64) {
        let key = Self.stored(key)
        let index = slot(of: key)
        if keys[index] == 0 {
            if (count &+ 1) &* 2 > keys.count {
                grow()
                set(key, tat: tat)
                return
            }
            keys[index] = key
            count &+= 1
        }
        tats[index] = tat
    }

    /// Keeps only the keys whose TAT is after `now` (the others' buckets are full again).
    mutating func removeAll(fullAt now: UInt64) {
        var kept = TATTable(capacity: count)
        for index in keys.indices where keys[index] != 0 && tats[index] > now {
            kept.set(keys[index], tat: tats[index])
        }
        self = kept
    }

    private mutating func grow() {
        var larger = TATTable(capacity: keys.count)
        for index in keys.indices where keys[index] != 0 { larger.set(keys[index], tat: tats[index]) }
        self = larger
    }
}
