/// The `GCRA` of the local limiter, run inside Redis (or Valkey) for limits shared by several
/// gateway processes: one Lua script, so reading and moving a key's TAT is one atomic step,
/// with Redis `TIME` as the one clock every process agrees on.
///
/// It grants up to `wanted` tokens at once (a lease; fewer when fewer are left, partial
/// grants), stores the TAT in microseconds with an expiry at the instant the bucket is full
/// again (a full bucket and a missing key mean the same), and answers
/// `{granted, remaining, resetMicroseconds, retryAfterMicroseconds}`. Plain Lua 5.1 with
/// `redis.call` only, so it runs on Valkey too; `TIME` in a script needs effect replication,
/// the only mode since Redis 7 and the default since 5.
package enum ClusterGCRAScript {
    package static let source = """
        local t = redis.call('TIME')
        local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
        local interval = tonumber(ARGV[1])
        local window = interval * tonumber(ARGV[2])
        local wanted = tonumber(ARGV[3])
        local tat = tonumber(redis.call('GET', KEYS[1]) or now) or now
        if tat < now then tat = now end
        local room = math.floor((now + window - tat) / interval)
        if room < 0 then room = 0 end
        local granted = wanted
        if room < granted then granted = room end
        if granted > 0 then
          tat = tat + granted * interval
          redis.call('SET', KEYS[1], string.format('%.0f', tat), 'PX', math.ceil((tat - now) / 1000) + 1)
        end
        local retry = 0
        if granted == 0 then retry = tat + interval - window - now end
        return {granted, room - granted, tat - now, retry}
        """

    /// The key of one bucket: always scoped by route, so two routes never share a bucket
    /// even when their client keys are equal.
    package static func key(route: String, clientKey: UInt64) -> [UInt8] {
        var key = Array("portico:v1:\(route):".utf8)
        appendHex(clientKey, to: &key)
        return key
    }

    /// `ARGV`: the interval in whole microseconds (rounded up, so the refill is never
    /// faster than configured), the burst, and the tokens wanted.
    package static func arguments(_ gcra: GCRA, wanted: Int) -> [[UInt8]] {
        let micros = gcra.interval / 1000 + (gcra.interval % 1000 == 0 ? 0 : 1)
        return [
            Array(String(max(1, micros)).utf8), Array(String(gcra.burst).utf8), Array(String(wanted).utf8),
        ]
    }

    private static func appendHex(_ value: UInt64, to out: inout [UInt8]) {
        let digits = Array("0123456789abcdef".utf8)
        for shift in stride(from: 60, through: 0, by: -4) {
            out.append(digits[Int((value >> UInt64(shift)) & 0xf)])
        }
    }
}

/// What the script answered for one bucket.
package struct ClusterGrant: Sendable, Equatable {
    /// Tokens granted (0 ..< wanted + 1).
    package var granted: Int
    /// Whole tokens still in the bucket after the grant.
    package var remaining: Int
    /// Until the bucket is full again.
    package var resetNanoseconds: UInt64
    /// Until the next token, when nothing was granted.
    package var retryAfterNanoseconds: UInt64

    package init(granted: Int, remaining: Int, resetNanoseconds: UInt64, retryAfterNanoseconds: UInt64) {
        self.granted = granted
        self.remaining = remaining
        self.resetNanoseconds = resetNanoseconds
        self.retryAfterNanoseconds = retryAfterNanoseconds
    }

    /// The script's four integers; nil for any other shape (a backend error).
    package init?(reply: [Int64], wanted: Int) {
        guard reply.count == 4, reply.allSatisfy({ $0 >= 0 }), reply[0] <= Int64(wanted) else { return nil }
        let (reset, overflowReset) = UInt64(reply[2]).multipliedReportingOverflow(by: 1000)
        let (retry, overflowRetry) = UInt64(reply[3]).multipliedReportingOverflow(by: 1000)
        guard !overflowReset, !overflowRetry, reply[1] <= Int64(Int32.max) else { return nil }
        self.init(
            granted: Int(reply[0]), remaining: Int(reply[1]), resetNanoseconds: reset,
            retryAfterNanoseconds: retry)
    }
}
