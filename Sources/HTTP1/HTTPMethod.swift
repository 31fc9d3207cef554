/// The request method, with the ones the gateway treats specially spelled out.
///
/// Methods are case-sensitive (RFC 9110 §9.1): `get` is `.other`. The exact bytes are always in
/// `RequestHead.methodSpan`.
public enum HTTPMethod: UInt8, Sendable {
    case get
    case head
    case post
    case put
    case delete
    case connect
    case options
    case trace
    case patch
    case other

    /// Idempotent per RFC 9110 §9.2.2: GET, HEAD, PUT, DELETE, OPTIONS and TRACE.
    @inlinable
    public var isIdempotent: Bool {
        switch self {
        case .get, .head, .put, .delete, .options, .trace: return true
        case .post, .connect, .patch, .other: return false
        }
    }

    /// Recognises a method from its exact (case-sensitive) bytes.
    public init(bytes: UnsafeRawBufferPointer) {
        self = HTTPMethod.recognize(bytes.baseAddress, bytes.count)
    }

    @inline(__always)
    static func recognize(_ base: UnsafeRawPointer?, _ count: Int) -> HTTPMethod {
        guard let base, count >= 3, count <= 7 else { return .other }
        let p = base.assumingMemoryBound(to: UInt8.self)
        @inline(__always) func match(_ literal: StaticString) -> Bool {
            literal.withUTF8Buffer { lit in
                for i in 0..<count where p[i] != lit[i] { return false }
                return true
            }
        }
        switch (count, p[0]) {
        case (3, UInt8(ascii: "G")): return match("GET") ? .get : .other
        case (3, UInt8(ascii: "P")): return match("PUT") ? .put : .other
        case (4, UInt8(ascii: "H")): return match("HEAD") ? .head : .other
        case (4, UInt8(ascii: "P")): return match("POST") ? .post : .other
        case (5, UInt8(ascii: "P")): return match("PATCH") ? .patch : .other
        case (5, UInt8(ascii: "T")): return match("TRACE") ? .trace : .other
        case (6, UInt8(ascii: "D")): return match("DELETE") ? .delete : .other
        case (7, UInt8(ascii: "C")): return match("CONNECT") ? .connect : .other
        case (7, UInt8(ascii: "O")): return match("OPTIONS") ? .options : .other
        default: return .other
        }
    }
}
