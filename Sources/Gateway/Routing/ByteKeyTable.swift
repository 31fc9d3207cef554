import HTTP1

/// A frozen open-addressing hash table (linear probing) from byte strings (plus a small integer seed that
/// namespaces them) to integers, looked up straight from a request's bytes without allocating.
///
/// Built once from configuration; the load factor stays at or below one half, so a lookup probes
/// few slots whatever key a client sends.
struct ByteKeyTable: Sendable {
    private struct Entry: Sendable {
        var hash: UInt64
        var seed: Int32
        var keyStart: Int32
        var keyCount: Int32
        var value: Int32
    }

    private let slots: [Int32]
    private let entries: [Entry]
    private let keys: [UInt8]
    private let mask: Int

    /// Builds the table; keys must be unique per seed, and are stored as given (callers store
    /// host keys lowercased and look them up with `lowercasing: true`).
    init(_ items: [(key: [UInt8], seed: Int, value: Int)]) {
        var capacity = 4
        while capacity < items.count * 2 {
            capacity *= 2
        }
        var slots = [Int32](repeating: -1, count: capacity)
        var entries: [Entry] = []
        var keys: [UInt8] = []
        for item in items {
            let hash = item.key.withUnsafeBytes { ByteKeyTable.hash($0, seed: item.seed, lowercasing: false) }
            var slot = Int(truncatingIfNeeded: hash) & (capacity - 1)
            while slots[slot] >= 0 {
                slot = (slot + 1) & (capacity - 1)
            }
            slots[slot] = Int32(entries.count)
            entries.append(
                Entry(
                    hash: hash, seed: Int32(item.seed), keyStart: Int32(keys.count),
                    keyCount: Int32(item.key.count),
                    value: Int32(item.value)))
            keys.append(contentsOf: item.key)
        }
        self.slots = slots
        self.entries = entries
        self.keys = keys
        self.mask = capacity - 1
    }

    /// The value stored for `key` under `seed`; with `lowercasing`, ASCII letters in `key` are
    /// compared as lowercase.
    @inline(__always)
    func value(for key: UnsafeRawBufferPointer, seed: Int, lowercasing: Bool) -> Int? {
        if entries.isEmpty {
            return nil
        }
        let hash = ByteKeyTable.hash(key, seed: seed, lowercasing: lowercasing)
        var slot = Int(truncatingIfNeeded: hash) & mask
        while true {
            let index = slots[slot]
            if index < 0 {
                return nil
            }
            let entry = entries[Int(index)]
            if entry.hash == hash && Int(entry.seed) == seed && Int(entry.keyCount) == key.count
                && equalsKey(at: Int(entry.keyStart), key, lowercasing: lowercasing)
            {
                return Int(entry.value)
            }
            slot = (slot + 1) & mask
        }
    }

    @inline(__always)
    private func equalsKey(at start: Int, _ key: UnsafeRawBufferPointer, lowercasing: Bool) -> Bool {
        for offset in 0..<key.count {
            let byte = lowercasing ? ASCII.lowercase(key[offset]) : key[offset]
            if keys[start + offset] != byte {
                return false
            }
        }
        return true
    }

    // Word-at-a-time multiply-xorshift hash (the mixing steps of splitmix64), so a lookup costs a
    // few cycles per 8 bytes. Clients cannot add keys, so crafted inputs can at worst probe the
    // few entries the configuration holds.
    @inline(__always)
    private static func hash(_ key: UnsafeRawBufferPointer, seed: Int, lowercasing: Bool) -> UInt64 {
        var hash = (UInt64(truncatingIfNeeded: seed) &+ 1) &* 0x9E37_79B9_7F4A_7C15 ^ UInt64(key.count)
        var offset = 0
        while offset + 8 <= key.count {
            var word = key.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
            if lowercasing {
                word = lowercaseWord(word)
            }
            hash = (hash ^ word) &* 0xBF58_476D_1CE4_E5B9
            hash ^= hash >> 31
            offset += 8
        }
        if offset < key.count {
            var word: UInt64 = 0
            var shift: UInt64 = 0
            while offset < key.count {
                let byte = lowercasing ? ASCII.lowercase(key[offset]) : key[offset]
                word |= UInt64(byte) << shift
                shift += 8
                offset += 1
            }
            hash = (hash ^ word) &* 0xBF58_476D_1CE4_E5B9
            hash ^= hash >> 31
        }
        hash = (hash ^ (hash >> 29)) &* 0x94D0_49BB_1331_11EB
        return hash ^ (hash >> 32)
    }

    // Lowercases the ASCII letters of eight bytes at once: a byte gets 0x20 when it is in
    // 'A'...'Z' (both sums below keep each byte below 0x100, so no carry crosses bytes).
    @inline(__always)
    private static func lowercaseWord(_ word: UInt64) -> UInt64 {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let high: UInt64 = 0x8080_8080_8080_8080
        let low7 = word & ~high
        let atLeastA = low7 &+ ones &* (0x80 - 0x41)
        let aboveZ = low7 &+ ones &* (0x80 - 0x5B)
        let upper = atLeastA & ~aboveZ & ~word & high
        return word | (upper >> 2)
    }
}
