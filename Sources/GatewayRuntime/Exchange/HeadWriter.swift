import HTTP1

/// A growable byte buffer for serializing message heads, owned by one loop and reused for
/// every head: appends are a bounds check and a memcpy (no array uniqueness checks, no
/// generic collection code, no reference counting), which matters at two heads per request.
struct HeadWriter: ~Copyable {
    private var base: UnsafeMutableRawPointer
    private var capacity: Int
    private(set) var count = 0

    init(capacity: Int = 4096) {
        self.capacity = capacity
        base = .allocate(byteCount: capacity, alignment: 16)
    }

    deinit { base.deallocate() }

    /// The bytes written since the last `reset()`. Valid until the next mutation.
    var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: count) }

    mutating func reset() { count = 0 }

    @inline(__always)
    private mutating func reserve(_ extra: Int) {
        if count + extra <= capacity { return }
        var grown = capacity * 2
        while grown < count + extra { grown *= 2 }
        let fresh = UnsafeMutableRawPointer.allocate(byteCount: grown, alignment: 16)
        fresh.copyMemory(from: base, byteCount: count)
        base.deallocate()
        base = fresh
        capacity = grown
    }

    @inline(__always)
    mutating func append(_ source: UnsafeRawBufferPointer) {
        guard let start = source.baseAddress else { return }
        append(start, count: source.count)
    }

    /// Most pieces of a head are a few bytes: they are copied inline with at most two
    /// (overlapping) word moves, which is cheaper than a call into memcpy for each.
    @inline(__always)
    private mutating func append(_ source: UnsafeRawPointer, count n: Int) {
        reserve(n)
        copy(source, count: n)
    }

    /// `append` without the capacity check, for callers that reserved room for several pieces.
    @inline(__always)
    private mutating func copy(_ source: UnsafeRawPointer, count n: Int) {
        let target = base + count
        if n > 16 {
            target.copyMemory(from: source, byteCount: n)
        } else if n >= 8 {
            target.storeBytes(of: source.loadUnaligned(as: UInt64.self), as: UInt64.self)
            (target + (n &- 8)).storeBytes(
                of: (source + (n &- 8)).loadUnaligned(as: UInt64.self), as: UInt64.self)
        } else if n >= 4 {
            target.storeBytes(of: source.loadUnaligned(as: UInt32.self), as: UInt32.self)
            (target + (n &- 4)).storeBytes(
                of: (source + (n &- 4)).loadUnaligned(as: UInt32.self), as: UInt32.self)
        } else {
            for index in 0..<n {
                target.storeBytes(
                    of: source.load(fromByteOffset: index, as: UInt8.self), toByteOffset: index,
                    as: UInt8.self)
            }
        }
        count &+= n
    }

    @inline(__always)
    mutating func append(_ text: StaticString) {
        append(UnsafeRawPointer(text.utf8Start), count: text.utf8CodeUnitCount)
    }

    /// Two bytes in one store (": " and CRLF end every field).
    @inline(__always)
    private mutating func append(pair: UInt16) {
        reserve(2)
        store(pair: pair)
    }

    @inline(__always)
    private mutating func store(pair: UInt16) {
        (base + count).storeBytes(of: pair.littleEndian, as: UInt16.self)
        count &+= 2
    }

    /// One field line with a single capacity check for all of it.
    @inline(__always)
    private mutating func fieldLine(
        _ name: UnsafeRawPointer?, _ nameCount: Int, _ value: UnsafeRawPointer?, _ valueCount: Int
    ) {
        reserve(nameCount &+ valueCount &+ 4)
        if let name { copy(name, count: nameCount) }
        store(pair: 0x203a)  // ": "
        if let value { copy(value, count: valueCount) }
        store(pair: 0x0a0d)  // CRLF
    }

    @inline(__always)
    mutating func appendColonSpace() { append(pair: 0x203a) }

    @inline(__always)
    mutating func appendCRLF() { append(pair: 0x0a0d) }

    @inline(__always)
    mutating func append(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { append($0) }
    }

    @inline(__always)
    mutating func append(byte: UInt8) {
        reserve(1)
        base.storeBytes(of: byte, toByteOffset: count, as: UInt8.self)
        count += 1
    }

    /// Decimal digits written in place, two at a time from a table of "00"..."99"
    /// (divisions by the constant 100 compile to multiplies).
    mutating func appendDecimal(_ value: UInt64) {
        if value < 10 {
            append(byte: 0x30 &+ UInt8(truncatingIfNeeded: value))
            return
        }
        if value < 100 {
            reserve(2)
            (base + count).storeBytes(
                of: UnsafeRawPointer(Self.digitPairs.utf8Start).loadUnaligned(
                    fromByteOffset: Int(truncatingIfNeeded: value) &* 2, as: UInt16.self),
                as: UInt16.self)
            count &+= 2
            return
        }
        var digits = 2
        var limit: UInt64 = 100
        while value >= limit && digits < 20 {
            digits &+= 1
            if limit > UInt64.max / 10 { break }
            limit &*= 10
        }
        reserve(digits)
        var rest = value
        var index = count &+ digits
        let pairs = UnsafeRawBufferPointer(start: Self.digitPairs.utf8Start, count: 200)
        while rest >= 100 {
            let pair = Int(truncatingIfNeeded: rest % 100) &* 2
            rest /= 100
            index &-= 2
            (base + index).storeBytes(
                of: pairs.loadUnaligned(fromByteOffset: pair, as: UInt16.self), as: UInt16.self)
        }
        if rest >= 10 {
            index &-= 2
            (base + index).storeBytes(
                of: pairs.loadUnaligned(fromByteOffset: Int(truncatingIfNeeded: rest) &* 2, as: UInt16.self),
                as: UInt16.self)
        } else {
            index &-= 1
            base.storeBytes(of: 0x30 &+ UInt8(truncatingIfNeeded: rest), toByteOffset: index, as: UInt8.self)
        }
        count &+= digits
    }

    /// "00" through "99", two ASCII bytes each (a literal: no lazy initialization to check).
    private static var digitPairs: StaticString {
        "00010203040506070809101112131415161718192021222324252627282930313233343536373839404142434445464748495051525354555657585960616263646566676869707172737475767778798081828384858687888990919293949596979899"
    }

    // MARK: HTTP pieces

    mutating func field(_ name: StaticString, _ value: StaticString) {
        fieldLine(name.utf8Start, name.utf8CodeUnitCount, value.utf8Start, value.utf8CodeUnitCount)
    }

    mutating func field(_ name: StaticString, _ value: UnsafeRawBufferPointer) {
        fieldLine(name.utf8Start, name.utf8CodeUnitCount, value.baseAddress, value.count)
    }

    mutating func field(_ name: StaticString, _ value: [UInt8]) {
        value.withUnsafeBytes { field(name, $0) }
    }

    mutating func field(_ name: StaticString, decimal: UInt64) {
        append(name)
        appendColonSpace()
        appendDecimal(decimal)
        appendCRLF()
    }

    mutating func field(_ name: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer) {
        fieldLine(name.baseAddress, name.count, value.baseAddress, value.count)
    }

    mutating func field(_ name: [UInt8], _ value: [UInt8]) {
        name.withUnsafeBytes { name in value.withUnsafeBytes { field(name, $0) } }
    }

    /// Appends the value of every `known` field in `fields`, each followed by ", ": the
    /// received part of a list the gateway extends (Via, X-Forwarded-For).
    mutating func appendValues(of known: KnownField, in fields: [HeaderField], bytes: UnsafeRawBufferPointer)
    {
        for field in fields where field.known == known {
            append(field.value.bytes(in: bytes))
            append(", ")
        }
    }

    /// A field whose value had obs-fold: written by `HTTP1Writer.unfoldedField` (each run of
    /// whitespace containing CR or LF becomes one space, RFC 9112 §5.2). Rare (obs-fold is
    /// obsolete), so the line goes through a temporary array.
    mutating func unfoldedField(_ name: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer) {
        var line: [UInt8] = []
        HTTP1Writer.unfoldedField(name: name, value: value, into: &line)
        append(line)
    }

    /// `HTTP/1.1 <status> <reason>` and CRLF; the standard reason when `reason` is empty.
    mutating func statusLine(_ status: Int, reason: UnsafeRawBufferPointer) {
        append("HTTP/1.1 ")
        append(byte: UInt8(truncatingIfNeeded: 0x30 + status / 100))
        append(byte: UInt8(truncatingIfNeeded: 0x30 + status / 10 % 10))
        append(byte: UInt8(truncatingIfNeeded: 0x30 + status % 10))
        append(byte: 0x20)
        if reason.isEmpty {
            HTTP1Writer.reasonPhrase(for: status).withUTF8Buffer { append(UnsafeRawBufferPointer($0)) }
        } else {
            append(reason)
        }
        appendCRLF()
    }

    mutating func endOfHead() { appendCRLF() }
}
