import HTTP1
import Testing

@testable import GatewayRuntime

@Suite struct ConnectionNamesTests {
    /// Parses `fields` (CRLF-terminated lines) under a GET and answers `body` with the head,
    /// its bytes and what its Connection names.
    private func withHead(
        _ fields: String, _ body: (RequestHead, UnsafeRawBufferPointer, ConnectionNames) throws -> Void
    ) throws {
        let text = Array("GET / HTTP/1.1\r\nHost: a\r\n\(fields)\r\n".utf8)
        try text.withUnsafeBytes { bytes in
            var parser = RequestHeadParser(limits: HeadLimits(maxHeaderBytes: 4096))
            guard case .complete(let head) = try parser.parse(bytes) else {
                Issue.record("incomplete head")
                return
            }
            try body(head, bytes, ConnectionNames(of: head, bytes: bytes))
        }
    }

    @Test func namesRecognisedFieldsOfEveryConnectionLineInAnyCase() throws {
        try withHead("Connection: x-forwarded-for, keep-alive\r\nConnection: VIA\r\nVia: 1.0 a\r\n") {
            head, bytes, named in
            #expect(named.contains(.xForwardedFor))
            #expect(named.contains(.via))
            #expect(!named.contains(.date))
            #expect(!named.contains(.host))
            let via = try #require(head.fields.first { $0.known == .via })
            let host = try #require(head.fields.first { $0.known == .host })
            #expect(named.names(via, in: head.fields, bytes: bytes))
            #expect(!named.names(host, in: head.fields, bytes: bytes))
        }
    }

    @Test func namesOtherFieldsByComparingTheList() throws {
        try withHead("Connection: X-Custom\r\nX-Custom: 1\r\nX-Other: 2\r\n") { head, bytes, named in
            let name = { (field: HeaderField) in String(decoding: field.name.bytes(in: bytes), as: UTF8.self)
            }
            let custom = try #require(head.fields.first { name($0) == "X-Custom" })
            let other = try #require(head.fields.first { name($0) == "X-Other" })
            #expect(named.names(custom, in: head.fields, bytes: bytes))
            #expect(!named.names(other, in: head.fields, bytes: bytes))
            #expect(!named.contains(.other))
        }
    }

    /// close, keep-alive and upgrade leave `connectionNamesOthers` unset: nothing is gathered.
    @Test func namesNothingForTheUsualTokens() throws {
        try withHead("Connection: close, Upgrade\r\nX-Custom: 1\r\n") { head, bytes, named in
            #expect(!head.connectionNamesOthers)
            for field in head.fields {
                #expect(!named.names(field, in: head.fields, bytes: bytes))
            }
        }
    }
}
