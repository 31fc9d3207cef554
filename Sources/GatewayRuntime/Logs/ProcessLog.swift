import Glibc
import Reactor
import Synchronization

/// Process logs on stderr as logfmt lines (README.md, "Command line"):
/// `ts=2026-11-25T17:21:35.123Z level=info msg="config loaded" generation=1`.
package final class ProcessLog: Sendable {
    package enum Level: String, Sendable {
        case debug, info, warn, error
    }

    private let fd: Int32
    private let lastWarnings = Mutex<[String: UInt64]>([:])

    /// Logs to `fd` (stderr by default).
    package init(fd: Int32 = 2) {
        self.fd = fd
    }

    package func info(_ message: String, _ fields: KeyValuePairs<String, String> = [:]) {
        write(.info, message, fields)
    }

    package func warn(_ message: String, _ fields: KeyValuePairs<String, String> = [:]) {
        write(.warn, message, fields)
    }

    package func error(_ message: String, _ fields: KeyValuePairs<String, String> = [:]) {
        write(.error, message, fields)
    }

    /// A warning written at most once per second per message, for conditions that can
    /// repeat at traffic speed (descriptor exhaustion, overflowing rate-limit tables).
    package func warnRateLimited(_ message: String, _ fields: KeyValuePairs<String, String> = [:]) {
        let now = UInt64(time(nil))
        let due = lastWarnings.withLock { last -> Bool in
            if let previous = last[message], previous == now { return false }
            last[message] = now
            return true
        }
        if due { write(.warn, message, fields) }
    }

    package func write(_ level: Level, _ message: String, _ fields: KeyValuePairs<String, String>) {
        var line = "ts=\(WallClock.iso8601Now()) level=\(level.rawValue) msg=\(Self.quoted(message))"
        for (key, value) in fields {
            line += " \(key)=\(Self.needsQuotes(value) ? Self.quoted(value) : value)"
        }
        line += "\n"
        FileIO.writeAll(fd, Array(line.utf8))
    }

    static func needsQuotes(_ value: String) -> Bool {
        value.isEmpty
            || value.utf8.contains { $0 <= 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "=") }
    }

    static func quoted(_ value: String) -> String {
        var out = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
