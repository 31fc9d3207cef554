/// `consistent_hash`: Maglev hashing (Eisenbud et al., "Maglev: A Fast and Reliable Software
/// Network Load Balancer", NSDI 2016, §3.4), weighted as Envoy's Maglev balancer does it.
///
/// A lookup table of a prime size M (at least 65537 and 100 entries per server) is filled once
/// per generation: each server walks its own permutation of the positions, derived from its key
/// (its address as configured, so a server keeps its permutation when others come or go), and
/// takes the next free one in turns; a server gets a turn in proportion to its weight, and every
/// server at least one. A key's hash then picks a position: one lookup per request.
///
/// - Same key, same server, as long as the servers and the exclusions stay the same.
/// - Removing one of N servers moves its keys and only a few others: about 1/N of all keys
///   (Maglev trades a little more movement than a hash ring for near-exact balance).
/// - An excluded server (open circuit, unhealthy, already tried) is skipped by walking on to the
///   next position whose server is not excluded: the keys of the other servers do not move, and
///   those of the excluded one spread over the others by weight and come back when it does.
/// - The caller hashes the key with ``hash(key:)``. A request without the key (no such header)
///   hashes the empty key, so all such requests go to one server (docs/configuration.md).
///
/// Immutable once built; every worker's copy of the balancer shares the table.
public struct ConsistentHash: Sendable {
    /// Each server's weight (>= 1), by server index.
    package let weights: [Int]
    /// The server index at each position.
    private let table: [Int32]

    /// The number of positions (a prime), 0 without servers.
    package var tableSize: Int { table.count }

    /// The table for servers identified by `serverKeys` (their configured addresses) with these
    /// weights, each >= 1; both by server index.
    package init(serverKeys: [String], weights: [Int]) {
        precondition(serverKeys.count == weights.count, "one weight per server")
        precondition(weights.allSatisfy { $0 >= 1 }, "server weights must be at least 1")
        self.weights = weights
        table = Self.fill(
            keyHashes: serverKeys.map { key in
                var key = key
                return key.withUTF8 { Self.hash(key: UnsafeRawBufferPointer($0)) }
            },
            weights: weights)
    }

    /// The server for the key hashed in `input.keyHash`, walking on past excluded servers; nil
    /// when every server is excluded. `excluding` may be called more than once for a server.
    package func pick(_ input: BalancerInput, excluding: (Int) -> Bool) -> Int? {
        guard !table.isEmpty else { return nil }
        var position = Int(
            truncatingIfNeeded: input.keyHash.multipliedFullWidth(by: UInt64(table.count)).high)
        let owner = Int(table[position])
        if !excluding(owner) { return owner }
        // The walk ends at an eligible server (every server has a position), so make sure there
        // is one first.
        guard weights.indices.contains(where: { !excluding($0) }) else { return nil }
        for _ in 1..<table.count {
            position += 1
            if position == table.count { position = 0 }
            let candidate = Int(table[position])
            if !excluding(candidate) { return candidate }
        }
        return nil  // the exclusions changed during the pick
    }

    /// The 64-bit hash of a balancing key: FNV-1a, then MurmurHash3's 64-bit finalizer so that
    /// every bit of the result depends on every byte. Fixed across processes and restarts (unlike
    /// the standard library's seeded `Hasher`), so every worker and every gateway instance maps a
    /// key to the same server.
    package static func hash(key: UnsafeRawBufferPointer) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in key {
            hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
        }
        return mix(hash)
    }

    /// MurmurHash3's `fmix64`.
    private static func mix(_ value: UInt64) -> UInt64 {
        var z = value
        z = (z ^ (z >> 33)) &* 0xff51_afd7_ed55_8ccd
        z = (z ^ (z >> 33)) &* 0xc4ce_b9fe_1a85_ec53
        return z ^ (z >> 33)
    }

    /// The Maglev table (the paper's Pseudocode 1) with weighted turns: in round r a server of
    /// weight w fills a position when r · w has reached its target, which then grows by the
    /// largest weight; so the heaviest server fills one position every round, one of half its
    /// weight every other round, and every server one in the first round.
    private static func fill(keyHashes: [UInt64], weights: [Int]) -> [Int32] {
        guard let maxWeight = weights.max() else { return [] }
        let size = tableSize(servers: weights.count)
        // Server i tries positions offset, offset + skip, offset + 2·skip, ... (mod size): a
        // permutation of all positions, since size is prime and 0 < skip < size.
        var next = keyHashes.map { Int(mix($0 ^ 0x6f66_6673_6574_0000) % UInt64(size)) }
        let skips = keyHashes.map { Int(mix($0 ^ 0x736b_6970_0000_0000) % UInt64(size - 1)) + 1 }
        var targets = Array(repeating: 0, count: weights.count)
        var table = [Int32](repeating: -1, count: size)
        var filled = 0
        var round = 1
        while true {
            for server in weights.indices where round * weights[server] >= targets[server] {
                targets[server] += maxWeight
                var position = next[server]
                while table[position] >= 0 {
                    position += skips[server]
                    if position >= size { position -= size }
                }
                table[position] = Int32(server)
                position += skips[server]
                next[server] = position >= size ? position - size : position
                filled += 1
                if filled == size { return table }
            }
            round += 1
        }
    }

    /// The smallest prime at least 65537 (Envoy's default) and at least 100 positions per
    /// server: the paper keeps M much larger than N for balance (§3.4).
    private static func tableSize(servers: Int) -> Int {
        var size = max(65537, 100 * servers)
        while !isPrime(size) { size += 1 }
        return size
    }

    private static func isPrime(_ n: Int) -> Bool {
        guard n >= 2 else { return false }
        var divisor = 2
        while divisor * divisor <= n {
            if n % divisor == 0 { return false }
            divisor += 1
        }
        return true
    }
}
