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
        guard let start = source.baseAddress, source.count > 0 else { return }
        reserve(source.count)
        (base + count).copyMemory(from: start, byteCount: source.count)
        count += source.count
    }

    @inline(__always)
    mutating func append(_ text: StaticString) {
        text.withUTF8Buffer { append(UnsafeRawBufferPointer($0)) }
    }

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

    mutating func appendDecimal(_ value: UInt64) {
        HTTP1Writer.withDigits(of: value, radix: 10) { append($0) }
    }

    // MARK: HTTP pieces

    mutating func field(_ name: StaticString, _ value: StaticString) {
        append(name)
        append(": ")
        append(value)
        append("\r\n")
    }

    mutating func field(_ name: StaticString, _ value: UnsafeRawBufferPointer) {
        append(name)
        append(": ")
        append(value)
        append("\r\n")
    }

    mutating func field(_ name: StaticString, _ value: [UInt8]) {
        value.withUnsafeBytes { field(name, $0) }
    }

    mutating func field(_ name: StaticString, decimal: UInt64) {
        append(name)
        append(": ")
        appendDecimal(decimal)
        append("\r\n")
    }

    mutating func field(_ name: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer) {
        append(name)
        append(": ")
        append(value)
        append("\r\n")
    }

    mutating func field(_ name: [UInt8], _ value: [UInt8]) {
        name.withUnsafeBytes { name in value.withUnsafeBytes { field(name, $0) } }
    }

    /// A field whose value had obs-fold: each CRLF and the whitespace after it become one
    /// space (RFC 9112 §5.2).
    mutating func unfoldedField(_ name: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer) {
        append(name)
        append(": ")
        var index = 0
        while index < value.count {
            let byte = value[index]
            if byte == 0x0d || byte == 0x0a {
                while index < value.count {
                    let next = value[index]
                    guard next == 0x0d || next == 0x0a || next == 0x20 || next == 0x09 else { break }
                    index += 1
                }
                append(byte: 0x20)
                continue
            }
            append(byte: byte)
            index += 1
        }
        append("\r\n")
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
        append("\r\n")
    }

    mutating func endOfHead() { append("\r\n") }
}
