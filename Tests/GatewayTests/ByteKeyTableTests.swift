import HTTP1
import Testing

@testable import Gateway

@Suite struct ByteKeyTableTests {
    @Test func findsEveryKeyOfEveryLengthUnderItsSeed() {
        let keys = (0..<40).map { length in
            (0..<length).map { UInt8(truncatingIfNeeded: 97 + ($0 * 7 + length) % 26) }
        }
        let table = ByteKeyTable(
            keys.enumerated().map { (key: $0.element, seed: $0.offset % 3, value: $0.offset) })
        for (index, key) in keys.enumerated() {
            key.withUnsafeBytes {
                #expect(table.value(for: $0, seed: index % 3, lowercasing: false) == index)
                #expect(table.value(for: $0, seed: index % 3 + 1, lowercasing: false) == nil)
            }
        }
    }

    @Test func foldsOnlyASCIILettersWhenLowercasing() {
        // Every byte value, in words and tails, against its ASCII-lowercased form.
        let all = (0...255).map { UInt8($0) }
        let stored = all.map(ASCII.lowercase)
        let table = ByteKeyTable([(key: stored, seed: 0, value: 1)])
        all.withUnsafeBytes { #expect(table.value(for: $0, seed: 0, lowercasing: true) == 1) }
        all.withUnsafeBytes { #expect(table.value(for: $0, seed: 0, lowercasing: false) == nil) }
        // '@' and '`', '[' and '{' differ by 0x20 too, but are not letters.
        var shifted = all
        shifted[0x40] = 0x60
        shifted.withUnsafeBytes { #expect(table.value(for: $0, seed: 0, lowercasing: true) == nil) }
        shifted = all
        shifted[0x5B] = 0x7B
        shifted.withUnsafeBytes { #expect(table.value(for: $0, seed: 0, lowercasing: true) == nil) }
    }

    @Test func answersNilFromAnEmptyTable() {
        let table = ByteKeyTable([])
        [UInt8]("x".utf8).withUnsafeBytes { #expect(table.value(for: $0, seed: 0, lowercasing: true) == nil) }
    }
}
