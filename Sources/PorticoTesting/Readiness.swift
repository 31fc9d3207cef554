import Glibc

/// The outcome of waiting for a descriptor with `poll(2)`.
enum Readiness {
    /// The descriptor reported the requested events (or an error/hang-up to be read).
    case ready
    /// The wake descriptor became readable: the owner is stopping.
    case woken
    /// The deadline passed first.
    case timedOut
}

/// Waits until `fd` reports `events`, `wakeFd` becomes readable, or `deadline` passes.
///
/// A negative `fd` is ignored by `poll`, which turns this into an interruptible sleep.
func waitForEvents(
    _ fd: Int32, _ events: Int32, wakeFd: Int32? = nil, deadline: Deadline
) throws -> Readiness {
    var descriptors = [pollfd(fd: fd, events: Int16(events), revents: 0)]
    if let wakeFd {
        descriptors.append(pollfd(fd: wakeFd, events: Int16(POLLIN), revents: 0))
    }
    while true {
        let result = poll(&descriptors, nfds_t(descriptors.count), deadline.pollTimeout)
        if result < 0 {
            if errno == EINTR { continue }
            throw TestingError.system("poll", errno)
        }
        if descriptors.count > 1 && descriptors[1].revents != 0 { return .woken }
        if result > 0 { return .ready }
        // poll rounds to milliseconds; only report a timeout once the deadline really passed.
        if deadline.hasPassed { return .timedOut }
    }
}

/// Sleeps until `deadline`, throwing `TestingError.stopped` if `wakeFd` becomes readable first.
func pauseInterruptibly(until deadline: Deadline, wakeFd: Int32?) throws {
    if try waitForEvents(-1, 0, wakeFd: wakeFd, deadline: deadline) == .woken {
        throw TestingError.stopped
    }
}
