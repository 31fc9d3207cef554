/// The start line and header fields of one HTTP/1.1 message, as read off the wire.
struct MessageHead {
    /// The first line without its CRLF.
    var startLine: String
    /// The fields in order, duplicates kept; values trimmed of optional whitespace.
    var fields: [(String, String)]
    /// The head exactly as received (lines joined by CRLF, ending with the empty line).
    var raw: String
}

/// How the body of a message is delimited (RFC 9112 section 6.3).
enum BodyFraming: Equatable {
    /// No body at all.
    case none
    /// Exactly this many bytes.
    case length(Int)
    /// The chunked transfer coding, then trailers.
    case chunked
    /// Everything until the sender closes the connection.
    case untilClose
}

extension SocketStream {
    /// Reads one message head; returns nil on a clean EOF before the first byte.
    ///
    /// With `skipsLeadingEmptyLines` empty lines before the start line are ignored, as a server
    /// should for requests (RFC 9112 section 2.2). Obsolete line folding is malformed.
    func readHead(maxBytes: Int, skipsLeadingEmptyLines: Bool) throws -> MessageHead? {
        if available == 0 {
            guard try fill() else { return nil }
        }
        var consumed = 0
        func nextLine() throws -> [UInt8] {
            let line = try readLine(maxBytes: maxBytes - consumed)
            consumed += line.count + 2
            if consumed > maxBytes {
                throw TestingError.malformed("\(activity) from \(peer) is larger than \(maxBytes) bytes")
            }
            return line
        }
        var startLine = try nextLine()
        while skipsLeadingEmptyLines && startLine.isEmpty {
            startLine = try nextLine()
        }
        var raw = String(decoding: startLine, as: UTF8.self) + "\r\n"
        var fields: [(String, String)] = []
        while true {
            let line = try nextLine()
            raw += String(decoding: line, as: UTF8.self) + "\r\n"
            if line.isEmpty { break }
            if line[0] == 0x20 || line[0] == 0x09 {
                throw TestingError.malformed("obsolete line folding in \(activity) from \(peer)")
            }
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")), colon > 0,
                !line[..<colon].contains(where: { $0 == 0x20 || $0 == 0x09 })
            else {
                throw TestingError.malformed(
                    "bad header line \"\(String(decoding: line, as: UTF8.self))\" in \(activity) from \(peer)"
                )
            }
            let name = String(decoding: line[..<colon], as: UTF8.self)
            let value = HeaderList.trimmed(String(decoding: line[(colon + 1)...], as: UTF8.self))
            fields.append((name, value))
        }
        return MessageHead(startLine: String(decoding: startLine, as: UTF8.self), fields: fields, raw: raw)
    }

    /// Reads a chunked body into `sink` and returns its trailer fields.
    func readChunkedBody(
        sink: (ArraySlice<UInt8>) throws -> Void, afterPiece: () throws -> Void = {}
    ) throws -> [(String, String)] {
        while true {
            let line = try readLine(maxBytes: 4096)
            let size = try chunkSize(line)
            if size == 0 { break }
            try readExactly(size, sink: sink, afterPiece: afterPiece)
            let end = try readBytes(2)
            guard end == [0x0D, 0x0A] else {
                throw TestingError.malformed("chunk data of \(activity) from \(peer) not followed by CRLF")
            }
        }
        var trailers: [(String, String)] = []
        while true {
            let line = try readLine(maxBytes: 8192)
            if line.isEmpty { return trailers }
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")), colon > 0 else {
                throw TestingError.malformed("bad trailer line in \(activity) from \(peer)")
            }
            trailers.append(
                (
                    String(decoding: line[..<colon], as: UTF8.self),
                    HeaderList.trimmed(String(decoding: line[(colon + 1)...], as: UTF8.self))
                ))
        }
    }

    /// Parses `chunk-size [ BWS ; chunk-ext ]` (RFC 9112 section 7.1).
    private func chunkSize(_ line: [UInt8]) throws -> Int {
        var size = 0
        var digits = 0
        for byte in line {
            let digit: Int
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = Int(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = Int(byte - UInt8(ascii: "a")) + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = Int(byte - UInt8(ascii: "A")) + 10
            case UInt8(ascii: ";"), 0x20, 0x09: digit = -1
            default:
                throw TestingError.malformed("bad chunk size line in \(activity) from \(peer)")
            }
            if digit < 0 { break }
            digits += 1
            if digits > 15 {
                throw TestingError.malformed("chunk size too large in \(activity) from \(peer)")
            }
            size = size * 16 + digit
        }
        if digits == 0 { throw TestingError.malformed("empty chunk size in \(activity) from \(peer)") }
        return size
    }
}

/// The single `Content-Length` value of `fields`, nil if absent; malformed if invalid or conflicting.
func contentLength(of fields: [(String, String)], what: String) throws -> Int? {
    let values = HeaderList.values("content-length", in: fields)
        .flatMap { $0.split(separator: ",", omittingEmptySubsequences: false) }
        .map { HeaderList.trimmed($0) }
    guard let first = values.first else { return nil }
    // RFC 9112 section 6.3 rule 5: differing or invalid lengths are unrecoverable.
    guard values.allSatisfy({ $0 == first }), !first.isEmpty, first.utf8.count <= 18,
        first.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let length = Int(first)
    else {
        throw TestingError.malformed("invalid Content-Length \(values) in \(what)")
    }
    return length
}

/// Whether the final transfer coding in `fields` is chunked, or nil without Transfer-Encoding.
func finalCodingIsChunked(_ fields: [(String, String)]) -> Bool? {
    let codings = HeaderList.values("transfer-encoding", in: fields)
        .flatMap { $0.split(separator: ",") }
        .map { HeaderList.lowercased(HeaderList.trimmed($0)) }
    guard let last = codings.last else { return nil }
    return last == "chunked"
}
