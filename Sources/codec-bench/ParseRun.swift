import HTTP1

/// How fast `RequestHeadParser` parses one sample, measured by parsing it back to back.
struct ParseRun {
    /// The sample parsed.
    let sample: CodecSample
    /// Heads parsed in the measured interval.
    let parses: Int
    /// The measured interval in seconds.
    let seconds: Double
    /// Fields in the parsed head, as a check that the parser saw the whole sample.
    let fieldCount: Int

    var parsesPerSecond: Double { Double(parses) / seconds }
    var megabytesPerSecond: Double { parsesPerSecond * Double(sample.bytes.count) / 1e6 }
    var nanosecondsPerParse: Double { seconds * 1e9 / Double(parses) }

    /// Parses `sample` for `seconds` (after a short warm-up) and returns the rate.
    ///
    /// The parser is reused the way a connection reuses it: it is ready for the next head
    /// after returning `.complete`. A sample that does not parse is a bug in the benchmark.
    static func measure(_ sample: CodecSample, seconds: Double) -> ParseRun {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: sample.bytes.count, alignment: 16)
        defer { buffer.deallocate() }
        buffer.copyBytes(from: sample.bytes)
        let input = UnsafeRawBufferPointer(buffer)
        var parser = RequestHeadParser(limits: HeadLimits(maxHeaderBytes: 16384))

        var fieldCount = 0
        _ = parseRepeatedly(input, &parser, for: min(0.2, seconds), fieldCount: &fieldCount)
        let (parses, elapsed) = parseRepeatedly(input, &parser, for: seconds, fieldCount: &fieldCount)
        return ParseRun(sample: sample, parses: parses, seconds: elapsed, fieldCount: fieldCount)
    }

    private static func parseRepeatedly(
        _ input: UnsafeRawBufferPointer, _ parser: inout RequestHeadParser, for seconds: Double,
        fieldCount: inout Int
    ) -> (parses: Int, seconds: Double) {
        // The clock is read once per batch so its cost stays out of the per-parse figure.
        let batch = 4096
        let clock = ContinuousClock()
        let start = clock.now
        var parses = 0
        var elapsed = 0.0
        repeat {
            for _ in 0..<batch {
                do {
                    switch try parser.parse(input) {
                    case .complete(let head):
                        fieldCount = head.fields.count
                    case .needMore:
                        fatalError("benchmark sample is incomplete")
                    }
                } catch {
                    fatalError("benchmark sample does not parse: \(error)")
                }
            }
            parses += batch
            let duration = clock.now - start
            elapsed = Double(duration.components.seconds) + Double(duration.components.attoseconds) * 1e-18
        } while elapsed < seconds
        return (parses, elapsed)
    }
}
