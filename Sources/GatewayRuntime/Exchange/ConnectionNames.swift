import HTTP1

/// The fields a head's `Connection` header names, which a proxy must not forward (RFC 9110
/// §7.6.1), gathered once per head so that every later question is a bit test.
///
/// The gateway removes them before it adds or extends its own fields, so that neither side
/// can strip or smuggle what the gateway manages: a named X-Forwarded-For or Via is not
/// extended but replaced, a named Date is added anew, a named X-Request-Id or
/// X-Request-Timeout-Ms is ignored. Host is the exception: every HTTP/1.1 request carries
/// it (RFC 9112 §3.2), so the gateway always sends it (as nginx does).
///
/// Built only when the head's `connectionNamesOthers` is set (close, keep-alive and upgrade
/// name nothing that is not removed as hop-by-hop anyway); otherwise it is empty and a check
/// costs a comparison.
struct ConnectionNames {
    /// One bit per `KnownField` raw value the list names.
    private var known: UInt64 = 0
    /// The list names a field the gateway does not recognise (`.other`), or a token that is
    /// not a field name at all.
    private var namesOther = false

    /// Names nothing.
    init() {}

    /// The names listed by every Connection field of `fields`, whose spans point into `bytes`.
    init(listedIn fields: [HeaderField], bytes: UnsafeRawBufferPointer) {
        for field in fields where field.known == .connection {
            Bytes.forEachListElement(field.value.bytes(in: bytes)) { token in
                let named = KnownField(name: token)
                if named == .other {
                    namesOther = true
                } else {
                    known |= 1 << named.rawValue
                }
            }
        }
    }

    /// What a request head's Connection names; empty unless it lists a field name.
    init(of head: borrowing RequestHead, bytes: UnsafeRawBufferPointer) {
        if head.connectionNamesOthers { self.init(listedIn: head.fields, bytes: bytes) } else { self.init() }
    }

    /// What a response head's Connection names; empty unless it lists a field name.
    init(of head: borrowing ResponseHead, bytes: UnsafeRawBufferPointer) {
        if head.connectionNamesOthers { self.init(listedIn: head.fields, bytes: bytes) } else { self.init() }
    }

    /// Whether the list names the recognised field `field` (never true for `.other`).
    @inline(__always)
    func contains(_ field: KnownField) -> Bool {
        known & (1 << field.rawValue) != 0
    }

    /// Whether `field`, one of `fields`, is named: a bit test for a recognised field; for any
    /// other a comparison with the list, made only when the list names such a field.
    @inline(__always)
    func names(_ field: HeaderField, in fields: [HeaderField], bytes: UnsafeRawBufferPointer) -> Bool {
        if field.known != .other { return contains(field.known) }
        return namesOther && Bytes.isListedInConnection(field.name.bytes(in: bytes), fields, bytes)
    }
}
