import Gateway
import Testing

@Suite struct ConsistentHashTests {
    private static let keys = (0..<10_000).map { BalancerTesting.keyHash("user-\($0)") }

    /// The server key each of `keys` maps to.
    private func owners(
        _ table: ConsistentHash, serverKeys: [String], excluding: (Int) -> Bool = { _ in false }
    ) -> [String] {
        Self.keys.map { serverKeys[table.pick(BalancerInput(keyHash: $0), excluding: excluding)!] }
    }

    @Test func theSameKeyAlwaysGoesToTheSameServer() {
        let table = ConsistentHash(serverKeys: BalancerTesting.serverKeys(5), weights: [1, 1, 1, 1, 1])
        for key in Self.keys.prefix(200) {
            let first = table.pick(BalancerInput(random: 1, keyHash: key), excluding: { _ in false })
            for random in 2..<6 as Range<UInt64> {
                #expect(
                    table.pick(BalancerInput(random: random, keyHash: key), excluding: { _ in false })
                        == first)
            }
        }
        // A table built again from the same servers is the same table.
        let again = ConsistentHash(serverKeys: BalancerTesting.serverKeys(5), weights: [1, 1, 1, 1, 1])
        let servers = BalancerTesting.serverKeys(5)
        #expect(owners(table, serverKeys: servers) == owners(again, serverKeys: servers))
    }

    @Test(arguments: [3, 5, 10])
    func removingOneOfNServersMovesAboutOneNthOfTheKeys(servers: Int) {
        let all = BalancerTesting.serverKeys(servers)
        let before = owners(
            ConsistentHash(serverKeys: all, weights: Array(repeating: 1, count: servers)), serverKeys: all)
        let removed = all[servers / 2]
        let rest = all.filter { $0 != removed }
        let after = owners(
            ConsistentHash(serverKeys: rest, weights: Array(repeating: 1, count: servers - 1)),
            serverKeys: rest)

        let moved = zip(before, after).filter { $0 != $1 }.count
        let movedFraction = Double(moved) / Double(Self.keys.count)
        // The removed server's keys must move (about 1/N of them); Maglev may move a few of the
        // others' too, which a table this much larger than N keeps rare.
        #expect(abs(movedFraction - 1 / Double(servers)) < 0.03, "moved \(movedFraction)")
        let movedFromOthers = zip(before, after).filter { $0 != removed && $0 != $1 }.count
        #expect(Double(movedFromOthers) / Double(Self.keys.count) < 0.02, "\(movedFromOthers) others moved")
    }

    @Test(arguments: [[1, 1, 1], [5, 1, 1], [3, 2], [10, 1, 4, 7]])
    func givesEachServerItsWeightShareOfKeys(weights: [Int]) {
        let table = ConsistentHash(serverKeys: BalancerTesting.serverKeys(weights.count), weights: weights)
        var counts = Array(repeating: 0, count: weights.count)
        for key in 0..<BalancerTesting.samples {
            counts[
                table.pick(
                    BalancerInput(keyHash: BalancerTesting.keyHash("k\(key)")), excluding: { _ in false })!] +=
                1
        }
        #expect(BalancerTesting.largestShareError(counts, weights: weights) < BalancerTesting.shareTolerance)
    }

    @Test func anExcludedServersKeysWalkOnAndTheOthersStay() {
        let servers = BalancerTesting.serverKeys(4)
        let table = ConsistentHash(serverKeys: servers, weights: [1, 1, 1, 1])
        let before = owners(table, serverKeys: servers)
        let excluded = servers[2]
        let after = owners(table, serverKeys: servers, excluding: { $0 == 2 })
        var spread: [String: Int] = [:]
        for (old, new) in zip(before, after) {
            #expect(new != excluded)
            if old == excluded {
                spread[new, default: 0] += 1
            } else {
                #expect(new == old)
            }
        }
        // The excluded server's keys spread over the other three, about a third each.
        let total = spread.values.reduce(0, +)
        #expect(spread.count == 3)
        #expect(spread.values.allSatisfy { abs(Double($0) / Double(total) - 1.0 / 3) < 0.05 }, "\(spread)")
        // The walk is stable too: the same key, the same exclusions, the same server.
        #expect(owners(table, serverKeys: servers, excluding: { $0 == 2 }) == after)
        // Back in, it gets its keys back.
        #expect(owners(table, serverKeys: servers) == before)
    }

    @Test func walksOnUntilAServerIsEligible() {
        let servers = BalancerTesting.serverKeys(5)
        let table = ConsistentHash(serverKeys: servers, weights: [1, 1, 1, 1, 1])
        let after = owners(table, serverKeys: servers, excluding: { $0 != 3 })
        #expect(after.allSatisfy { $0 == servers[3] })
        #expect(table.pick(BalancerInput(keyHash: 42), excluding: { _ in true }) == nil)
    }

    @Test func aMissingKeyHashesAsTheEmptyKey() {
        let empty = ConsistentHash.hash(key: UnsafeRawBufferPointer(start: nil, count: 0))
        #expect(empty == BalancerTesting.keyHash(""))
        let table = ConsistentHash(serverKeys: BalancerTesting.serverKeys(3), weights: [1, 1, 1])
        let server = table.pick(BalancerInput(keyHash: empty), excluding: { _ in false })
        #expect(server != nil)
        #expect(table.pick(BalancerInput(keyHash: empty), excluding: { _ in false }) == server)
    }

    @Test func theKeyHashIsFixed() {
        // Changing the hash would move every key on upgrade; these values pin it (FNV-1a 64
        // followed by MurmurHash3's fmix64, computed independently).
        #expect(BalancerTesting.keyHash("") == 0xefd0_1f60_ba99_2926)
        #expect(BalancerTesting.keyHash("a") == 0x82a2_a958_a9be_ce5b)
        #expect(BalancerTesting.keyHash("10.0.0.1") == 0xc879_e56d_dc6c_5c88)
    }

    @Test func tableSizeIsAPrimeWithRoomForEveryServer() {
        #expect(
            ConsistentHash(serverKeys: BalancerTesting.serverKeys(3), weights: [1, 1, 1]).tableSize == 65537)
        #expect(ConsistentHash(serverKeys: [], weights: []).tableSize == 0)
        #expect(
            ConsistentHash(serverKeys: [], weights: []).pick(BalancerInput(), excluding: { _ in false })
                == nil)
    }

    @Test func everyServerHasAPlaceHoweverLight() {
        // A weight ratio beyond the table size still leaves the light server one position.
        let table = ConsistentHash(serverKeys: BalancerTesting.serverKeys(2), weights: [1_000_000, 1])
        #expect(table.pick(BalancerInput(keyHash: 1), excluding: { $0 == 0 }) == 1)
    }
}
