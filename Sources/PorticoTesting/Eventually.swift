import Glibc

/// Polls `condition` every `interval` until it returns true; throws `TestingError.timedOut`
/// naming `description` if it is still false after `timeout`.
///
/// For conditions no helper can signal (e.g. a counter in the gateway's `/stats`); prefer the
/// blocking waits of `FakeUpstream`, `TestClient` and `ProcessRunner` when they apply. Errors
/// thrown by `condition` propagate at once.
package func waitUntil(
    _ description: String = "condition", timeout: Duration = .seconds(5),
    interval: Duration = .milliseconds(5),
    _ condition: () throws -> Bool
) throws {
    let deadline = Deadline.after(timeout)
    while true {
        if try condition() { return }
        if deadline.hasPassed {
            throw TestingError.timedOut("\(description) still false after \(timeout.testDescription)")
        }
        try pauseInterruptibly(until: min(deadline, .after(interval)), wakeFd: nil)
    }
}
