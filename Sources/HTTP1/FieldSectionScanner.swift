/// Restartable scanner of a field section (RFC 9112 §5), shared by the request and response
/// head parsers.
///
/// It walks each byte once and keeps its position and line state between calls, so feeding a
/// head one byte at a time costs O(n) overall. Field lines become `HeaderField`s appended to a
/// field array the caller lends (one per loop, reused for every head, so parsing allocates
/// nothing in steady state); a section split across calls moves to the scanner's own array,
/// since the lent one may serve another connection in between. The caller interprets the
/// fields once the blank line has been seen.
struct FieldSectionScanner: Sendable {
    enum State: UInt8, Sendable {
        case lineStart
        case name
        case spaceBeforeColon
        case spaceBeforeValue
        case value
        case lineFeed
        case foldSpace
        case endLineFeed
    }

    /// Response mode: apply the repairs RFC 9112 tells a proxy to make (whitespace before a
    /// colon is dropped, §5.1; obs-fold is kept and marked for unfolding, §5.2) instead of
    /// refusing, and report errors as `.badResponse`.
    let repairs: Bool
    // The one-byte fields first, together: every client connection holds a scanner, and
    // an idle connection should stay small.
    var state = State.lineStart
    var isFold = false
    /// The section's fields live in `held` (it spanned several calls).
    private var holding = false
    /// The lent storage was cleared for the current section.
    private var started = false
    // Offsets as 32 bits (a head is below 2 GiB, `HeadLimits`), read and written through
    // the `Int` properties below.
    private var storedLineStart: Int32 = 0
    private var storedNameEnd: Int32 = 0
    private var storedValueStart: Int32 = 0
    private var storedValueEnd: Int32 = 0
    /// The section's fields so far when it spans several calls (`holding`).
    private var held: [HeaderField] = []

    var lineStart: Int {
        get { Int(storedLineStart) }
        set { storedLineStart = Int32(truncatingIfNeeded: newValue) }
    }
    var nameEnd: Int {
        get { Int(storedNameEnd) }
        set { storedNameEnd = Int32(truncatingIfNeeded: newValue) }
    }
    var valueStart: Int {
        get { Int(storedValueStart) }
        set { storedValueStart = Int32(truncatingIfNeeded: newValue) }
    }
    var valueEnd: Int {
        get { Int(storedValueEnd) }
        set { storedValueEnd = Int32(truncatingIfNeeded: newValue) }
    }

    init(repairs: Bool) {
        self.repairs = repairs
    }

    /// Forgets the current section.
    mutating func reset() {
        state = .lineStart
        isFold = false
        started = false
        if holding {
            held = []
            holding = false
        }
    }

    /// The complete section's fields, after `scan` returned true with the same `storage`.
    func fields(_ storage: [HeaderField]) -> [HeaderField] {
        holding ? held : storage
    }

    /// Scans from `position` up to `end`, appending fields to `storage` (or to the scanner's
    /// own array once the section has spanned a call); returns true once the blank line ending
    /// the section has been consumed (then `position` is just past it), false when more bytes
    /// are needed (then `position == end` and the state is saved).
    mutating func scan(
        _ base: UnsafePointer<UInt8>, _ position: inout Int, _ end: Int, storage: inout [HeaderField]
    ) throws(HTTP1ParseError) -> Bool {
        if holding {
            var fields = held
            held = []  // the local is then the only owner: appends do not copy
            defer { held = fields }
            return try scanLines(base, &position, end, into: &fields)
        }
        if !started {
            started = true
            // Keeps the capacity (the empty shared array is left alone: clearing it allocates).
            if !storage.isEmpty { storage.removeAll(keepingCapacity: true) }
        }
        guard try scanLines(base, &position, end, into: &storage) else {
            held = storage
            holding = true
            return false
        }
        return true
    }

    @inline(__always)
    func failure(_ text: String) -> HTTP1ParseError {
        repairs ? .badResponse(text) : .badRequest(text)
    }

    private mutating func scanLines(
        _ base: UnsafePointer<UInt8>, _ position: inout Int, _ end: Int, into fields: inout [HeaderField]
    ) throws(HTTP1ParseError) -> Bool {
        // Locals, written back only on exit: keeping the line state in registers avoids
        // store-to-load stalls when a field is built from it.
        var p = position
        var state = self.state
        var lineStart = self.lineStart
        var nameEnd = self.nameEnd
        var valueStart = self.valueStart
        var valueEnd = self.valueEnd
        var isFold = self.isFold
        let tokens = ByteClass.tokenTable
        defer {
            position = p
            self.state = state
            self.lineStart = lineStart
            self.nameEnd = nameEnd
            self.valueStart = valueStart
            self.valueEnd = valueEnd
            self.isFold = isFold
        }
        while true {
            switch state {
            case .lineStart:
                guard p < end else { return false }
                let b = base[p]
                if ByteClass.isToken(b) {
                    lineStart = p
                    isFold = false
                    p += 1
                    state = .name
                } else if b == ByteClass.cr {
                    p += 1
                    state = .endLineFeed
                } else if ByteClass.isWhitespace(b) {
                    // RFC 9112 §5.2: obs-fold. A request is refused; a response is repaired.
                    // Whitespace before the first field line is refused either way (§2.2).
                    guard repairs, !fields.isEmpty else {
                        throw failure(fields.isEmpty ? "whitespace before first field" : "obs-fold")
                    }
                    p += 1
                    state = .foldSpace
                } else if b == ByteClass.lf {
                    throw failure("bare LF")
                } else {
                    throw failure("invalid field name")
                }

            case .name:
                p = ByteClass.skipToken(base, from: p, to: end, table: tokens)
                guard p < end else { return false }
                let b = base[p]
                nameEnd = p
                p += 1
                if b == ByteClass.colon {
                    state = .spaceBeforeValue
                } else if ByteClass.isWhitespace(b) {
                    // RFC 9112 §5.1: a server MUST reject whitespace between name and colon; a
                    // proxy MUST remove it from a response.
                    guard repairs else { throw failure("whitespace before colon") }
                    state = .spaceBeforeColon
                } else {
                    throw failure("invalid field name")
                }

            case .spaceBeforeColon:
                while p < end && ByteClass.isWhitespace(base[p]) { p += 1 }
                guard p < end else { return false }
                guard base[p] == ByteClass.colon else { throw failure("invalid field name") }
                p += 1
                state = .spaceBeforeValue

            case .spaceBeforeValue, .foldSpace:
                while p < end && ByteClass.isWhitespace(base[p]) { p += 1 }
                guard p < end else { return false }
                isFold = state == .foldSpace
                valueStart = p
                state = .value

            case .value:
                p = ByteClass.skipFieldValue(base, from: p, to: end)
                guard p < end else { return false }
                let b = base[p]
                guard b == ByteClass.cr else {
                    throw failure(b == ByteClass.lf ? "bare LF" : "invalid character in field value")
                }
                var last = p
                while last > valueStart && ByteClass.isWhitespace(base[last - 1]) { last -= 1 }
                valueEnd = last
                p += 1
                state = .lineFeed

            case .lineFeed:
                guard p < end else { return false }
                guard base[p] == ByteClass.lf else { throw failure("bare CR") }
                p += 1
                if isFold {
                    Self.foldIntoLastField(&fields, valueStart, valueEnd)
                } else {
                    // One allocation per head in the common case; nothing is held while idle.
                    if fields.isEmpty { fields.reserveCapacity(16) }
                    let known = KnownField.recognize(base + lineStart, nameEnd - lineStart)
                    fields.append(
                        HeaderField(
                            name: ByteSpan(unchecked: lineStart, nameEnd),
                            value: ByteSpan(unchecked: valueStart, valueEnd),
                            known: known, needsUnfolding: false))
                }
                state = .lineStart

            case .endLineFeed:
                guard p < end else { return false }
                guard base[p] == ByteClass.lf else { throw failure("bare CR") }
                p += 1
                state = .lineStart
                return true
            }
        }
    }

    /// Appends a continuation line to the previous field (responses only, RFC 9112 §5.2).
    private static func foldIntoLastField(_ fields: inout [HeaderField], _ valueStart: Int, _ valueEnd: Int) {
        guard valueEnd > valueStart else { return }
        let last = fields.count - 1
        if fields[last].value.isEmpty {
            fields[last].value = ByteSpan(unchecked: valueStart, valueEnd)
        } else {
            fields[last].value.end = Int32(truncatingIfNeeded: valueEnd)
            fields[last].needsUnfolding = true
        }
    }
}
