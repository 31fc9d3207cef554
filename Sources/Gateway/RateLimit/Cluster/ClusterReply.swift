import RESP

/// Why a call to Redis for a cluster limit failed, as `/stats` and `/metrics` count it.
package enum ClusterBackendError: String, CaseIterable, Sendable {
    /// No reply within `cluster.redis.timeoutMs` (or the request's deadline).
    case timeout
    /// No connection, or it broke before the reply.
    case connection
    /// Bytes that were not RESP2, or over a size cap; the connection was dropped.
    case `protocol`
    /// `-LOADING`: Redis is loading its data set after a restart.
    case loading
    /// `-BUSY`: a script runs too long and Redis answers nothing else.
    case busy
    /// `-READONLY`: the address reaches a replica (a failover moved the primary).
    case readonly
    /// Any other error reply (`-NOAUTH`, `-OOM`, a script error), or a reply of the wrong shape.
    case reply
}

/// What one answer to the limiter's script call means.
package enum ClusterReply: Equatable, Sendable {
    case grant(ClusterGrant)
    /// `-NOSCRIPT`: the script cache was emptied (a restart, a failover, `SCRIPT FLUSH`);
    /// send the script itself once (`EVAL`), which caches it again.
    case scriptMissing
    case failed(ClusterBackendError)

    package init(_ reply: RESPValue, wanted: Int) {
        switch reply {
        case .array(let values?):
            var integers: [Int64] = []
            for value in values {
                guard case .integer(let number) = value else {
                    self = .failed(.reply)
                    return
                }
                integers.append(number)
            }
            guard let grant = ClusterGrant(reply: integers, wanted: wanted) else {
                self = .failed(.reply)
                return
            }
            self = .grant(grant)
        case .error(let message):
            self = Self.classify(errorReply: message)
        default:
            self = .failed(.reply)
        }
    }

    /// The error's kind is its first word (the RESP convention: `-LOADING Redis is loading`).
    private static func classify(errorReply message: [UInt8]) -> ClusterReply {
        let prefix = message.prefix { $0 != UInt8(ascii: " ") }
        switch String(decoding: prefix, as: UTF8.self) {
        case "NOSCRIPT": return .scriptMissing
        case "LOADING": return .failed(.loading)
        case "BUSY": return .failed(.busy)
        case "READONLY": return .failed(.readonly)
        default: return .failed(.reply)
        }
    }
}

extension ClusterGCRAScript {
    /// The script's name in Redis's cache (the SHA-1 of its text), for `EVALSHA`.
    package static let sha1 = Array(SHA1.hex(Array(source.utf8)).utf8)

    /// `EVALSHA` of the script for one bucket: the usual call, a few dozen bytes.
    package static func cachedCall(key: [UInt8], _ gcra: GCRA, wanted: Int) -> [[UInt8]] {
        [Array("EVALSHA".utf8), sha1, Array("1".utf8), key] + arguments(gcra, wanted: wanted)
    }

    /// `EVAL` with the script's text, after `-NOSCRIPT`; it caches the script again.
    package static func fullCall(key: [UInt8], _ gcra: GCRA, wanted: Int) -> [[UInt8]] {
        [Array("EVAL".utf8), Array(source.utf8), Array("1".utf8), key] + arguments(gcra, wanted: wanted)
    }
}
