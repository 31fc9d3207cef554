import Testing

@testable import HTTP1

@Suite struct KnownFieldTests {
    static let names: [(String, KnownField)] = [
        ("Host", .host), ("Content-Length", .contentLength), ("Transfer-Encoding", .transferEncoding),
        ("Connection", .connection), ("Keep-Alive", .keepAlive), ("Proxy-Connection", .proxyConnection),
        ("TE", .te), ("Trailer", .trailer), ("Upgrade", .upgrade), ("Proxy-Authenticate", .proxyAuthenticate),
        ("Proxy-Authorization", .proxyAuthorization), ("Expect", .expect),
        ("X-Forwarded-For", .xForwardedFor),
        ("X-Forwarded-Proto", .xForwardedProto), ("X-Forwarded-Host", .xForwardedHost),
        ("X-Request-Id", .xRequestId), ("X-Request-Timeout-Ms", .xRequestTimeoutMs), ("Via", .via),
        ("Date", .date), ("Content-Type", .contentType), ("Server", .server),
    ]

    private func recognise(_ name: String) -> KnownField {
        bytes(name).withUnsafeBytes { KnownField(name: $0) }
    }

    @Test func recognisesEveryKnownNameInAnyCase() {
        for (name, known) in KnownFieldTests.names {
            #expect(recognise(name) == known)
            #expect(recognise(name.lowercased()) == known)
            #expect(recognise(name.uppercased()) == known)
        }
    }

    @Test func nearMissesAreOther() {
        for (name, _) in KnownFieldTests.names {
            var changed = bytes(name.lowercased())
            for i in changed.indices {
                let original = changed[i]
                changed[i] =
                    original == UInt8(ascii: "-") ? UInt8(ascii: "_") : UInt8(ascii: "q") ^ (original & 1)
                if changed != bytes(name.lowercased()) {
                    #expect(changed.withUnsafeBytes { KnownField(name: $0) } == .other, "\(changed)")
                }
                changed[i] = original
            }
            #expect(recognise(name + "s") == .other)
            #expect(recognise(String(name.dropLast())) == .other)
        }
        #expect(recognise("") == .other)
        #expect(recognise("Content\rLength") == .other)
    }

    @Test func hopByHopFieldsAreMarked() {
        let hop: [KnownField] = [
            .connection, .keepAlive, .proxyConnection, .te, .trailer, .transferEncoding, .upgrade,
            .proxyAuthenticate, .proxyAuthorization,
        ]
        for (_, known) in KnownFieldTests.names { #expect(known.isHopByHop == hop.contains(known)) }
    }

    @Test func tokenMasksMatchRFC9110() {
        let tchar = Set(
            bytes("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"))
        for b in 0...255 { #expect(ByteClass.isToken(UInt8(b)) == tchar.contains(UInt8(b)), "\(b)") }
    }

    @Test func methodsAreRecognisedExactly() {
        let methods: [(String, HTTPMethod)] = [
            ("GET", .get), ("HEAD", .head), ("POST", .post), ("PUT", .put), ("DELETE", .delete),
            ("CONNECT", .connect), ("OPTIONS", .options), ("TRACE", .trace), ("PATCH", .patch),
            ("Get", .other),
            ("GETS", .other), ("PUTT", .other), ("OPTION", .other), ("", .other),
        ]
        for (name, method) in methods {
            #expect(bytes(name).withUnsafeBytes { HTTPMethod(bytes: $0) } == method)
        }
        #expect(
            HTTPMethod.put.isIdempotent && !HTTPMethod.post.isIdempotent && !HTTPMethod.patch.isIdempotent)
    }

    @Test func listElementsAreTrimmedAndEmptyOnesSkipped() {
        let value = bytes(" a ,, b\t,c ,\r\n d,")
        var elements: [String] = []
        value.withUnsafeBytes { raw in
            FieldList.forEachElement(in: raw) { elements.append(String(decoding: raw[$0], as: UTF8.self)) }
        }
        #expect(elements == ["a", "b", "c", "d"])
    }
}
