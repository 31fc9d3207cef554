/// Character classes of RFC 9110 / RFC 3986, as bit tests instead of tables (no memory loads,
/// no lazily initialised globals on the hot path).
enum ByteClass {
    /// tchar (RFC 9110 §5.6.2) for bytes 0x00-0x3F, one bit per byte.
    static let tokenLow: UInt64 = 0x03ff_6cfa_0000_0000
    /// tchar for bytes 0x40-0x7F.
    static let tokenHigh: UInt64 = 0x57ff_ffff_c7ff_fffe

    static let cr = UInt8(ascii: "\r")
    static let lf = UInt8(ascii: "\n")
    static let sp = UInt8(ascii: " ")
    static let htab = UInt8(ascii: "\t")
    static let colon = UInt8(ascii: ":")
    static let comma = UInt8(ascii: ",")
    static let semicolon = UInt8(ascii: ";")

    /// A token character (RFC 9110 §5.6.2).
    @inline(__always)
    static func isToken(_ b: UInt8) -> Bool {
        let mask = b < 64 ? tokenLow : tokenHigh
        return b < 128 && (mask >> UInt64(b & 63)) & 1 != 0
    }

    /// A byte allowed inside a field value: HTAB, SP, VCHAR and obs-text (RFC 9110 §5.5).
    @inline(__always)
    static func isFieldValue(_ b: UInt8) -> Bool {
        (b >= 0x20 && b != 0x7f) || b == 0x09
    }

    /// A byte allowed in a request target: visible ASCII except '#' (RFC 9112 §3.2, README.md, "Strict parsing").
    @inline(__always)
    static func isTarget(_ b: UInt8) -> Bool {
        b &- 0x21 < 0x5e && b != UInt8(ascii: "#")
    }

    /// High bit set in each byte of `word` that is below 0x20 or DEL (exact for the lowest
    /// such byte; higher ones may be false positives), by the "has less than" and "has zero
    /// byte" word tricks.
    @inline(__always)
    static func controlBytes(_ word: UInt64) -> UInt64 {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        let belowSpace = (word &- ones &* 0x20) & ~word & highs
        let del = word ^ (ones &* 0x7f)
        let hasDel = (del &- ones) & ~del & highs
        return belowSpace | hasDel
    }

    /// The end of the run of field-value bytes (see `isFieldValue`) starting at `p`, before `end`.
    @inline(__always)
    static func skipFieldValue(_ base: UnsafePointer<UInt8>, from p: Int, to end: Int) -> Int {
        var p = p
        let raw = UnsafeRawPointer(base)
        // Eight bytes at a time; values are the bulk of a head. The lowest flagged byte of a
        // word is exact, so the scan jumps straight to it; only HTAB continues the run.
        while p &+ 8 <= end {
            let flagged = controlBytes(raw.loadUnaligned(fromByteOffset: p, as: UInt64.self))
            if flagged == 0 {
                p &+= 8
                continue
            }
            p &+= flagged.trailingZeroBitCount &>> 3
            guard base[p] == htab else { return p }
            p &+= 1
        }
        while p < end && isFieldValue(base[p]) { p &+= 1 }
        return p
    }

    /// True at each tchar byte value. Built once; a table load per byte is cheaper than the
    /// two-mask bit test in the name loops, which run on every field line.
    // nonisolated(unsafe): the table is filled inside the lazy initializer (which Swift runs
    // once, thread-safely) and only read afterwards.
    nonisolated(unsafe) static let tokenTable: UnsafePointer<Bool> = {
        let table = UnsafeMutablePointer<Bool>.allocate(capacity: 256)
        for byte in 0..<256 { table[byte] = isToken(UInt8(byte)) }
        return UnsafePointer(table)
    }()

    /// The end of the run of token characters starting at `p`, before `end`; `table` is
    /// `tokenTable`, read once by the caller (each read of a lazy global is a call).
    @inline(__always)
    static func skipToken(
        _ base: UnsafePointer<UInt8>, from p: Int, to end: Int, table: UnsafePointer<Bool>
    ) -> Int {
        var p = p
        while p < end && table[Int(base[p])] { p &+= 1 }
        return p
    }

    /// SP or HTAB.
    @inline(__always)
    static func isWhitespace(_ b: UInt8) -> Bool {
        b == 0x20 || b == 0x09
    }

    /// An ASCII decimal digit.
    @inline(__always)
    static func isDigit(_ b: UInt8) -> Bool {
        b &- 0x30 < 10
    }

    /// The value of a hexadecimal digit, or nil.
    @inline(__always)
    static func hexValue(_ b: UInt8) -> UInt8? {
        if b &- 0x30 < 10 { return b &- 0x30 }
        let lower = b | 0x20
        if lower &- 0x61 < 6 { return lower &- 0x61 &+ 10 }
        return nil
    }

    /// True when every byte is a token character and there is at least one.
    static func isTokenSequence(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard !bytes.isEmpty else { return false }
        for b in bytes where !isToken(b) { return false }
        return true
    }
}
