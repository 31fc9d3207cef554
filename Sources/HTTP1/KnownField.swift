/// Header field names the gateway acts on, recognised once while parsing.
///
/// Recognition compares bytes case-insensitively (field names are case-insensitive, RFC 9110 §5.1);
/// every other name is `.other`.
public enum KnownField: UInt8, Sendable {
    case other
    case host
    case contentLength
    case transferEncoding
    case connection
    case keepAlive
    case proxyConnection
    case te
    case trailer
    case upgrade
    case proxyAuthenticate
    case proxyAuthorization
    case expect
    case xForwardedFor
    case xForwardedProto
    case xForwardedHost
    case xRequestId
    case xRequestTimeoutMs
    case via
    case date
    case contentType
    case server
    case location
    case contentLocation

    /// True for the fields RFC 9110 §7.6.1 calls hop-by-hop (Connection itself and the fields
    /// a proxy removes whether or not Connection names them).
    @inlinable
    public var isHopByHop: Bool {
        switch self {
        case .connection, .keepAlive, .proxyConnection, .te, .trailer, .transferEncoding, .upgrade,
            .proxyAuthenticate, .proxyAuthorization:
            return true
        default:
            return false
        }
    }

    /// Recognises a field name given as bytes (any case); names that are not tokens give `.other`.
    public init(name: UnsafeRawBufferPointer) {
        guard let base = name.baseAddress, ByteClass.isTokenSequence(name) else {
            self = .other
            return
        }
        self = KnownField.recognize(base.assumingMemoryBound(to: UInt8.self), name.count)
    }

    /// Recognises `count` token bytes at `p`; the bytes must be token characters (see
    /// `ByteClass.isToken`), which makes the OR-0x20 folding below exact.
    @inline(__always)
    static func recognize(_ p: UnsafePointer<UInt8>, _ count: Int) -> KnownField {
        // Every candidate is chosen by length and one more byte, then compared in full.
        let first = p[0] | 0x20
        switch count {
        case 2:
            return matches(p, count, "te") ? .te : .other
        case 3:
            return matches(p, count, "via") ? .via : .other
        case 4:
            if first == UInt8(ascii: "h") { return matches(p, count, "host") ? .host : .other }
            return matches(p, count, "date") ? .date : .other
        case 6:
            if first == UInt8(ascii: "e") { return matches(p, count, "expect") ? .expect : .other }
            return matches(p, count, "server") ? .server : .other
        case 7:
            if first == UInt8(ascii: "t") { return matches(p, count, "trailer") ? .trailer : .other }
            return matches(p, count, "upgrade") ? .upgrade : .other
        case 8:
            return matches(p, count, "location") ? .location : .other
        case 10:
            if first == UInt8(ascii: "c") {
                return matches(p, count, "connection") ? .connection : .other
            }
            return matches(p, count, "keep-alive") ? .keepAlive : .other
        case 12:
            if first == UInt8(ascii: "x") {
                return matches(p, count, "x-request-id") ? .xRequestId : .other
            }
            return matches(p, count, "content-type") ? .contentType : .other
        case 14:
            return matches(p, count, "content-length") ? .contentLength : .other
        case 15:
            return matches(p, count, "x-forwarded-for") ? .xForwardedFor : .other
        case 16:
            if first == UInt8(ascii: "p") {
                return matches(p, count, "proxy-connection") ? .proxyConnection : .other
            }
            if first == UInt8(ascii: "c") {
                return matches(p, count, "content-location") ? .contentLocation : .other
            }
            return matches(p, count, "x-forwarded-host") ? .xForwardedHost : .other
        case 17:
            if first == UInt8(ascii: "t") {
                return matches(p, count, "transfer-encoding") ? .transferEncoding : .other
            }
            return matches(p, count, "x-forwarded-proto") ? .xForwardedProto : .other
        case 18:
            return matches(p, count, "proxy-authenticate") ? .proxyAuthenticate : .other
        case 19:
            return matches(p, count, "proxy-authorization") ? .proxyAuthorization : .other
        case 20:
            return matches(p, count, "x-request-timeout-ms") ? .xRequestTimeoutMs : .other
        default:
            return .other
        }
    }

    /// Compares `count` token bytes with a lowercase literal of the same length.
    ///
    /// OR-ing 0x20 into a token byte maps exactly the ASCII letters to lowercase and leaves '-'
    /// alone, and the literals hold only lowercase letters and '-', so the comparison is exact.
    /// Eight bytes are compared at a time; the last word overlaps the previous one.
    @inline(__always)
    static func matches(_ p: UnsafePointer<UInt8>, _ count: Int, _ literal: StaticString) -> Bool {
        let lit = UnsafeRawPointer(literal.utf8Start)
        let raw = UnsafeRawPointer(p)
        if count < 8 {
            for i in 0..<count where p[i] | 0x20 != literal.utf8Start[i] { return false }
            return true
        }
        let fold: UInt64 = 0x2020_2020_2020_2020
        var i = 0
        while i + 8 < count {
            let a = raw.loadUnaligned(fromByteOffset: i, as: UInt64.self) | fold
            if a != lit.loadUnaligned(fromByteOffset: i, as: UInt64.self) { return false }
            i += 8
        }
        let a = raw.loadUnaligned(fromByteOffset: count - 8, as: UInt64.self) | fold
        return a == lit.loadUnaligned(fromByteOffset: count - 8, as: UInt64.self)
    }
}
