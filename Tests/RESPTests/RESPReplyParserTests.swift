import RESP
import Testing

@Suite struct RESPReplyParserTests {
    /// Every reply of `stream`, fed in the given pieces.
    private func replies(_ stream: [UInt8], pieces: [Int], limits: RESPLimits = RESPLimits()) throws
        -> [RESPValue]
    {
        var parser = RESPReplyParser(limits: limits)
        var out: [RESPValue] = []
        var start = 0
        for end in pieces + [stream.count] where end >= start {
            parser.append(Array(stream[start..<end]))
            start = end
            while let reply = try parser.next() { out.append(reply) }
        }
        #expect(!parser.isInsideReply)
        return out
    }

    private static let samples: [(String, RESPValue)] = [
        ("+OK\r\n", .simpleString(Array("OK".utf8))),
        ("-NOSCRIPT No matching script\r\n", .error(Array("NOSCRIPT No matching script".utf8))),
        (":0\r\n", .integer(0)),
        (":-9223372036854775808\r\n", .integer(Int64.min)),
        (":9223372036854775807\r\n", .integer(Int64.max)),
        ("$5\r\nhe\r\no\r\n", .bulkString(Array("he\r\no".utf8))),
        ("$0\r\n\r\n", .bulkString([])),
        ("$-1\r\n", .bulkString(nil)),
        ("*-1\r\n", .array(nil)),
        ("*0\r\n", .array([])),
        (
            "*3\r\n:1\r\n*2\r\n$1\r\na\r\n-ERR x\r\n$-1\r\n",
            .array([
                .integer(1), .array([.bulkString([UInt8(ascii: "a")]), .error(Array("ERR x".utf8))]),
                .bulkString(nil),
            ])
        ),
    ]

    @Test func eachKindOfReply() throws {
        for (text, expected) in Self.samples {
            #expect(try replies(Array(text.utf8), pieces: []) == [expected], "\(text.debugDescription)")
        }
    }

    /// The same replies whatever the reads: split at every byte, and cut in two at every
    /// offset, of all samples pipelined in one stream.
    @Test func splitAtEveryByte() throws {
        let stream = Self.samples.flatMap { Array($0.0.utf8) }
        let expected = Self.samples.map(\.1)
        #expect(try replies(stream, pieces: Array(1..<stream.count)) == expected)
        for cut in 0...stream.count {
            #expect(try replies(stream, pieces: [cut]) == expected, "cut at \(cut)")
        }
    }

    @Test func errorRepliesAreValuesAndTheStreamGoesOn() throws {
        var parser = RESPReplyParser()
        parser.append(Array("-LOADING Redis is loading\r\n:7\r\n".utf8))
        let first = try parser.next()
        #expect(first?.errorPrefix == Array("LOADING".utf8))
        #expect(try parser.next() == .integer(7))
        #expect(try parser.next() == nil)
    }

    @Test func malformedStreamsFailAndStayFailed() throws {
        let malformed = [
            "?1\r\n", "\r\n", ":\r\n", ":1x\r\n", ":+1\r\n", ":99999999999999999999\r\n", "$-2\r\n",
            "*-5\r\n", "$3\r\nabcd\r\n", "+OK\n", "+O\rK\r\n", ":-\r\n", "$2\r\nab\n\n",
        ]
        for text in malformed {
            var parser = RESPReplyParser()
            parser.append(Array(text.utf8))
            #expect(throws: RESPParseError.self, "\(text.debugDescription)") { try parser.next() }
            parser.append(Array("+OK\r\n".utf8))
            #expect(throws: RESPParseError.self, "a failed parser stays failed") { try parser.next() }
        }
    }

    @Test func capsAreEnforced() throws {
        let limits = RESPLimits(
            maxLineBytes: 16, maxBulkBytes: 8, maxArrayCount: 4, maxDepth: 2, maxReplyValues: 6)
        let over = [
            "+" + String(repeating: "a", count: 16) + "\r\n",  // line of 17 bytes
            "$9\r\n",
            "*5\r\n",
            "*1\r\n*1\r\n*1\r\n:1\r\n",
            "*3\r\n*3\r\n:1\r\n:1\r\n:1\r\n:1\r\n:1\r\n",
        ]
        for text in over {
            var parser = RESPReplyParser(limits: limits)
            parser.append(Array(text.utf8))
            #expect(throws: RESPParseError.self, "\(text.debugDescription)") {
                while try parser.next() != nil {}
            }
        }
        // A line with no end yet fails as soon as it is longer than the cap, not at its CRLF.
        var endless = RESPReplyParser(limits: limits)
        endless.append(Array(String(repeating: "a", count: 18).utf8))
        #expect(throws: RESPParseError.tooLarge("a reply line is too long")) { try endless.next() }

        let within =
            "+" + String(repeating: "a", count: 15) + "\r\n$8\r\n12345678\r\n*2\r\n*2\r\n:1\r\n:2\r\n:3\r\n"
        #expect(try replies(Array(within.utf8), pieces: [], limits: limits).count == 3)
    }

    /// The per-reply value count starts again with every reply.
    @Test func valueCountIsPerReply() throws {
        let limits = RESPLimits(maxReplyValues: 3)
        let stream = Array(String(repeating: "*2\r\n:1\r\n:2\r\n", count: 10).utf8)
        #expect(try replies(stream, pieces: [], limits: limits).count == 10)
    }

    @Test func commandsAreArraysOfBulkStrings() throws {
        #expect(RESPCommand.encode("GET", "k") == Array("*2\r\n$3\r\nGET\r\n$1\r\nk\r\n".utf8))
        let binary: [[UInt8]] = [Array("SET".utf8), [0x0d, 0x0a, 0x00], []]
        #expect(RESPCommand.encode(binary) == Array("*3\r\n$3\r\nSET\r\n$3\r\n\r\n\u{0}\r\n$0\r\n\r\n".utf8))
        // A server reading it back sees the same arguments (the parser reads arrays of bulks).
        var parser = RESPReplyParser()
        parser.append(RESPCommand.encode(binary))
        #expect(try parser.next() == .array(binary.map { .bulkString($0) }))
    }
}
