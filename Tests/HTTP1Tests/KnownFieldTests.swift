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
        ("Date", .date), ("Content-Type", .contentType), ("Server", .server), ("Location", .location),
        ("Content-Location", .contentLocation),
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

    /// Word-at-a-time folding must be exact: only ASCII letters fold, whatever their position
    /// relative to a word boundary, and bytes that differ from a letter by 0x20 do not match.
    @Test func caseInsensitiveComparisonFoldsOnlyLetters() {
        func equal(_ text: [UInt8], _ literal: StaticString) -> Bool {
            text.withUnsafeBytes { FieldList.equalsIgnoringCase($0, literal) }
        }
        #expect(equal(Array("Keep-Alive".utf8), "keep-alive"))
        #expect(equal(Array("KEEP-ALIVE".utf8), "keep-alive"))
        #expect(equal(Array("100-Continue".utf8), "100-continue"))
        #expect(equal(Array("ClOsE".utf8), "close"))
        #expect(!equal(Array("keep\ralive".utf8), "keep-alive"))  // CR is 0x2d - 0x20
        #expect(!equal(Array("keep\u{0d}alive".utf8), "keep-alive"))
        #expect(!equal([0x4b, 0x45, 0x45, 0x50, 0x0d, 0x41, 0x4c, 0x49, 0x56, 0x45], "keep-alive"))
        #expect(!equal(Array("\u{11}00-continue".utf8), "100-continue"))  // 0x11 | 0x20 == "1"
        #expect(!equal([0xcb] + Array("eep-alive".utf8), "keep-alive"))  // obs-text 0xcb has "K"'s low bits
        #expect(!equal(Array("keep-alivf".utf8), "keep-alive"))
        #expect(!equal(Array("keep-aliv".utf8), "keep-alive"))
        #expect(equal([], ""))
    }
}
