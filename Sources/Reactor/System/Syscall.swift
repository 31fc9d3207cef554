import CLinux
import Glibc

/// The outcome of a non-blocking I/O call: would-block is a value, not an error.
public enum IOResult: Equatable, Sendable {
    case processed(Int)
    case wouldBlock
}

/// Runs one system call, retrying on EINTR. A negative return becomes a thrown
/// `SystemError`, except EAGAIN which is returned as `.wouldBlock`. EBADF means a bug
/// (a descriptor used after close), so it traps instead of being thrown.
@inline(__always)
public func retryingSyscall(
    _ operation: StaticString, _ body: () -> Int
) throws(SystemError) -> IOResult {
    while true {
        let result = body()
        if result >= 0 { return .processed(result) }
        let code = errno
        switch code {
        case EINTR: continue
        case EAGAIN: return .wouldBlock
        case EBADF: fatalError("\(operation) on a closed descriptor (EBADF)")
        default: throw SystemError("\(operation)", errno: code)
        }
    }
}

/// Runs a system call that is not expected to block, retrying on EINTR.
@inline(__always)
public func syscall(_ operation: StaticString, _ body: () -> Int32) throws(SystemError) -> Int32 {
    while true {
        let result = body()
        if result >= 0 { return result }
        let code = errno
        if code == EINTR { continue }
        if code == EBADF { fatalError("\(operation) on a closed descriptor (EBADF)") }
        throw SystemError("\(operation)", errno: code)
    }
}

/// Closes a descriptor. Errors other than EBADF are ignored: after close(2) the
/// descriptor is gone whatever it returned (retrying on EINTR would be wrong on Linux).
public func closeDescriptor(_ fd: Int32) {
    if Glibc.close(fd) != 0 && errno == EBADF {
        fatalError("close on a closed descriptor (EBADF)")
    }
}

/// Number of CPUs this process may run on.
public func availableCPUCount() -> Int { max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN))) }

/// Ignores SIGPIPE for the process, so writes to a closed socket return EPIPE instead of killing it.
public func ignoreBrokenPipeSignal() { _ = clinux_ignore_sigpipe() }
