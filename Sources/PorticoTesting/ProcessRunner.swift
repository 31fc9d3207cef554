import Glibc
import Synchronization

/// Runs a program (usually the `portico` binary) as a child process and observes it.
///
/// The child is started with `posix_spawn` in its own process group, default signal
/// dispositions, an empty signal mask and stdin from `/dev/null`. Its stdout and stderr are
/// collected by a background thread; another thread reaps it, so waits never poll. Dropping the
/// runner kills the child's process group with SIGKILL if it is still alive.
package final class ProcessRunner: Sendable {
    /// One of the child's output streams.
    package enum Stream: Sendable, CustomStringConvertible {
        /// Standard output (descriptor 1).
        case stdout
        /// Standard error (descriptor 2).
        case stderr

        /// `stdout` or `stderr`.
        package var description: String { self == .stdout ? "stdout" : "stderr" }
    }

    /// How the child ended.
    package enum Termination: Sendable, Equatable {
        /// It called `exit` with this code.
        case exited(Int32)
        /// A signal with this number killed it.
        case signaled(Int32)

        /// The shell convention: the exit code, or 128 plus the signal number.
        package var status: Int32 {
            switch self {
            case .exited(let code): return code
            case .signaled(let signal): return 128 + signal
            }
        }
    }

    /// The child's process id (also its process group id).
    package let pid: pid_t
    /// The program that was started, as given.
    package let executable: String
    private let core: ProcessCore
    private let waiterThread: TestThread
    private let readerThread: TestThread

    /// Starts `executable` with `arguments`.
    ///
    /// The environment is the test process's own (unless `inheritsEnvironment` is false)
    /// overlaid with `environment`. A name without `/` is searched in `PATH`.
    /// `workingDirectory` nil keeps the current directory.
    package init(
        executable: String, arguments: [String] = [], environment: [String: String] = [:],
        inheritsEnvironment: Bool = true, workingDirectory: String? = nil
    ) throws {
        self.executable = executable
        let stdoutPipe = try ProcessRunner.makePipe()
        let stderrPipe = try ProcessRunner.makePipe()
        let wakePipe = try ProcessRunner.makePipe()
        var spawned: pid_t = 0
        do {
            spawned = try ProcessRunner.spawn(
                executable: executable, arguments: arguments,
                environment: ProcessRunner.mergedEnvironment(environment, inherits: inheritsEnvironment),
                workingDirectory: workingDirectory, stdoutFd: stdoutPipe.1, stderrFd: stderrPipe.1)
        } catch {
            for fd in [stdoutPipe.0, stdoutPipe.1, stderrPipe.0, stderrPipe.1, wakePipe.0, wakePipe.1] {
                Glibc.close(fd)
            }
            throw error
        }
        Glibc.close(stdoutPipe.1)
        Glibc.close(stderrPipe.1)
        pid = spawned
        let core = ProcessCore(
            pid: spawned, stdoutFd: stdoutPipe.0, stderrFd: stderrPipe.0, wakeRead: wakePipe.0,
            wakeWrite: wakePipe.1)
        self.core = core
        waiterThread = TestThread.start { core.reap() }
        readerThread = TestThread.start { core.readOutput() }
    }

    deinit {
        terminate()
        waiterThread.join()
        core.wakeReader()
        readerThread.join()
        core.closeDescriptors()
    }

    /// Waits for the next line of `stream` containing `text` and returns it (without newline).
    ///
    /// Lines are consumed in order: a later call only looks at lines after the previous
    /// match on that stream, so waiting twice for `reloaded` needs two such lines. Throws
    /// `timedOut` (with the output so far) or, once the stream has closed without such a line,
    /// `processEnded`.
    package func waitForLine(
        containing text: String, in stream: Stream = .stderr, timeout: Duration = .seconds(5)
    ) throws -> String {
        var found: String?
        var closed = false
        _ = core.notifier.wait(until: .after(timeout)) {
            core.state.withLock { state in
                let lines = ProcessCore.lines(of: state.output(stream), includesPartial: state.isOutputClosed)
                let first = state.consumedLines(stream)
                if first < lines.count {
                    for index in first..<lines.count where lines[index].contains(text) {
                        state.setConsumedLines(stream, index + 1)
                        found = lines[index]
                        return true
                    }
                }
                closed = state.isOutputClosed
                return closed
            }
        }
        if let found { return found }
        let tail = outputTail(stream)
        if closed {
            throw TestingError.processEnded(
                "\(executable) closed \(stream) without a line containing \"\(text)\"; it said: \(tail)")
        }
        throw TestingError.timedOut(
            "no \(stream) line containing \"\(text)\" from \(executable) within \(timeout.testDescription); "
                + "it said: \(tail)")
    }

    /// Everything the child wrote to `stream` so far, decoded as UTF-8.
    package func output(_ stream: Stream) -> String {
        core.state.withLock { String(decoding: $0.output(stream), as: UTF8.self) }
    }

    /// The complete lines the child wrote to `stream` so far.
    package func lines(in stream: Stream) -> [String] {
        core.state.withLock { ProcessCore.lines(of: $0.output(stream), includesPartial: $0.isOutputClosed) }
    }

    /// How the child ended, or nil while it runs.
    package var termination: Termination? { core.state.withLock { $0.termination } }

    /// Whether the child is still running (not yet reaped).
    package var isRunning: Bool { termination == nil }

    /// Sends `signalNumber` (e.g. `SIGTERM`, `SIGHUP`) to the child; throws if it already ended.
    package func signal(_ signalNumber: Int32) throws {
        // Checked and sent under the lock so the pid cannot have been reaped and reused in between.
        try core.state.withLock { state in
            guard state.termination == nil else {
                throw TestingError.processEnded(
                    "\(executable) already ended; cannot send signal \(signalNumber)")
            }
            if kill(pid, signalNumber) != 0 { throw TestingError.system("kill \(pid)", errno) }
        }
    }

    /// Waits for the child to end and its output to close; returns `Termination.status`.
    ///
    /// Throws `timedOut` if it is still running after `timeout`, or if it ended but something
    /// (a grandchild) still holds its output pipes.
    @discardableResult
    package func waitForExit(timeout: Duration = .seconds(5)) throws -> Int32 {
        let done = core.notifier.wait(until: .after(timeout)) {
            core.state.withLock { $0.termination != nil && $0.isOutputClosed }
        }
        if done, let termination { return termination.status }
        if let termination {
            throw TestingError.timedOut(
                "\(executable) ended (\(termination)) but its output pipes stayed open for "
                    + timeout.testDescription)
        }
        throw TestingError.timedOut(
            "\(executable) still running after \(timeout.testDescription); stderr: \(outputTail(.stderr))")
    }

    /// Kills the child's process group with SIGKILL if the child still runs, and waits for it.
    package func terminate() {
        let alive = core.state.withLock { state in
            guard state.termination == nil else { return false }
            kill(-pid, SIGKILL)
            kill(pid, SIGKILL)
            return true
        }
        if alive {
            _ = core.notifier.wait(until: .after(.seconds(10))) {
                core.state.withLock { $0.termination != nil }
            }
        }
    }

    /// A port on 127.0.0.1 that was free a moment ago, for configurations written before start.
    ///
    /// The socket is closed before returning, so another test could take the port in between
    /// (and a connect to a free ephemeral port can even connect to itself); prefer letting the
    /// server bind port 0 and report it where possible.
    package static func freePort() throws -> UInt16 {
        let (fd, port) = try LoopbackSocket.listen(backlog: 1)
        Glibc.close(fd)
        return port
    }

    /// The path of an executable named `name` built next to the running test binary, or nil.
    ///
    /// `swift test` runs `.build/<triple>/debug/<Package>PackageTests.xctest`, and the
    /// package's executables (e.g. `portico`) are built into the same directory.
    package static func builtProductPath(named name: String) -> String? {
        var buffer = [CChar](repeating: 0, count: 4096)
        let length = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard length > 0 else { return nil }
        var directory = String(decoding: buffer[0..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        for _ in 0..<3 {
            guard let slash = directory.lastIndex(of: "/") else { return nil }
            directory = String(directory[..<slash])
            let candidate = directory + "/" + name
            var info = stat()
            if stat(candidate, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG, access(candidate, X_OK) == 0 {
                return candidate
            }
        }
        return nil
    }

    private func outputTail(_ stream: Stream) -> String {
        let text = output(stream)
        if text.isEmpty { return "(nothing)" }
        return text.count > 2000 ? "..." + String(text.suffix(2000)) : text
    }

    /// A one-way channel: (parent's nonblocking read end, child's blocking write end).
    private static func makePipe() throws -> (Int32, Int32) {
        let (readEnd, writeEnd) = try LoopbackSocket.makeSocketPair()
        shutdown(readEnd, Int32(SHUT_WR))
        shutdown(writeEnd, Int32(SHUT_RD))
        _ = fcntl(readEnd, F_SETFL, fcntl(readEnd, F_GETFL) | O_NONBLOCK)
        return (readEnd, writeEnd)
    }

    private static func mergedEnvironment(_ overrides: [String: String], inherits: Bool) -> [String] {
        var entries: [String] = []
        if inherits {
            var cursor = environ
            while let entry = cursor.pointee {
                let text = String(cString: entry)
                let name = String(text.prefix { $0 != "=" })
                if overrides[name] == nil { entries.append(text) }
                cursor += 1
            }
        }
        for (name, value) in overrides.sorted(by: { $0.key < $1.key }) { entries.append("\(name)=\(value)") }
        return entries
    }

    private static func spawn(
        executable: String, arguments: [String], environment: [String], workingDirectory: String?,
        stdoutFd: Int32, stderrFd: Int32
    ) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, stdoutFd, 1)
        posix_spawn_file_actions_adddup2(&actions, stderrFd, 2)
        if let workingDirectory {
            guard let addChdir = GNUFunctions.addChdirAction else {
                throw TestingError.system("posix_spawn_file_actions_addchdir_np lookup", ENOSYS)
            }
            let result = addChdir(&actions, workingDirectory)
            if result != 0 { throw TestingError.system("posix_spawn_file_actions_addchdir_np", result) }
        }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // The test runner may ignore or block signals (SIGPIPE); the child must start clean.
        var defaults = sigset_t()
        sigfillset(&defaults)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var mask = sigset_t()
        sigemptyset(&mask)
        posix_spawnattr_setsigmask(&attributes, &mask)
        posix_spawnattr_setpgroup(&attributes, 0)
        let flags = POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETPGROUP
        posix_spawnattr_setflags(&attributes, Int16(flags))

        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup($0) } + [nil]
        defer {
            for pointer in argv { free(pointer) }
            for pointer in envp { free(pointer) }
        }
        var pid: pid_t = 0
        let result =
            executable.contains("/")
            ? posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
            : posix_spawnp(&pid, executable, &actions, &attributes, argv, envp)
        if result != 0 { throw TestingError.system("posix_spawn \(executable)", result) }
        return pid
    }
}

/// The state a `ProcessRunner` shares with its reaper and output-reader threads.
final class ProcessCore: Sendable {
    struct State {
        var stdout: [UInt8] = []
        var stderr: [UInt8] = []
        var stdoutConsumedLines = 0
        var stderrConsumedLines = 0
        var isOutputClosed = false
        var termination: ProcessRunner.Termination?

        func output(_ stream: ProcessRunner.Stream) -> [UInt8] { stream == .stdout ? stdout : stderr }

        func consumedLines(_ stream: ProcessRunner.Stream) -> Int {
            stream == .stdout ? stdoutConsumedLines : stderrConsumedLines
        }

        mutating func setConsumedLines(_ stream: ProcessRunner.Stream, _ count: Int) {
            if stream == .stdout { stdoutConsumedLines = count } else { stderrConsumedLines = count }
        }
    }

    let state = Mutex(State())
    let notifier = ChangeNotifier()
    private let pid: pid_t
    private let stdoutFd: Int32
    private let stderrFd: Int32
    private let wakeRead: Int32
    private let wakeWrite: Int32

    init(pid: pid_t, stdoutFd: Int32, stderrFd: Int32, wakeRead: Int32, wakeWrite: Int32) {
        self.pid = pid
        self.stdoutFd = stdoutFd
        self.stderrFd = stderrFd
        self.wakeRead = wakeRead
        self.wakeWrite = wakeWrite
    }

    /// Splits output into lines at LF (dropping a CR before it); the unterminated tail counts
    /// only once the stream has closed.
    static func lines(of bytes: [UInt8], includesPartial: Bool) -> [String] {
        var lines: [String] = []
        var start = 0
        for index in bytes.indices where bytes[index] == UInt8(ascii: "\n") {
            var end = index
            if end > start && bytes[end - 1] == UInt8(ascii: "\r") { end -= 1 }
            lines.append(String(decoding: bytes[start..<end], as: UTF8.self))
            start = index + 1
        }
        if includesPartial && start < bytes.count {
            lines.append(String(decoding: bytes[start...], as: UTF8.self))
        }
        return lines
    }

    /// Blocks in `waitpid` until the child ends, then records how.
    func reap() {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            guard errno == EINTR else {
                let code = errno
                record { $0.termination = .exited(-code) }
                return
            }
        }
        // The WIFEXITED/WTERMSIG macros are not importable; this is their glibc definition.
        let signal = status & 0x7f
        let termination: ProcessRunner.Termination =
            signal == 0 ? .exited((status >> 8) & 0xff) : .signaled(signal)
        record { $0.termination = termination }
    }

    /// Collects both output pipes until both reach EOF or the runner wakes the thread.
    func readOutput() {
        var descriptors = [
            pollfd(fd: stdoutFd, events: Int16(POLLIN), revents: 0),
            pollfd(fd: stderrFd, events: Int16(POLLIN), revents: 0),
            pollfd(fd: wakeRead, events: Int16(POLLIN), revents: 0),
        ]
        var buffer = [UInt8](repeating: 0, count: 65536)
        while descriptors[0].fd >= 0 || descriptors[1].fd >= 0 {
            let ready = poll(&descriptors, nfds_t(descriptors.count), -1)
            if ready < 0 {
                if errno == EINTR { continue }
                break
            }
            if descriptors[2].revents != 0 { break }
            for slot in 0..<2 where descriptors[slot].fd >= 0 && descriptors[slot].revents != 0 {
                let count = buffer.withUnsafeMutableBytes {
                    read(descriptors[slot].fd, $0.baseAddress, $0.count)
                }
                if count > 0 {
                    let bytes = buffer[0..<count]
                    record { state in
                        if slot == 0 {
                            state.stdout.append(contentsOf: bytes)
                        } else {
                            state.stderr.append(contentsOf: bytes)
                        }
                    }
                } else if count == 0 || (errno != EAGAIN && errno != EINTR) {
                    // A negative fd makes poll skip the slot.
                    descriptors[slot].fd = -1
                }
            }
        }
        record { $0.isOutputClosed = true }
    }

    /// Makes `readOutput` return even if some process still holds the pipes.
    func wakeReader() {
        var byte: UInt8 = 1
        _ = write(wakeWrite, &byte, 1)
    }

    /// Closes the parent's descriptors; call after both threads have been joined.
    func closeDescriptors() {
        for fd in [stdoutFd, stderrFd, wakeRead, wakeWrite] { Glibc.close(fd) }
    }

    private func record(_ change: (inout State) -> Void) {
        state.withLock { change(&$0) }
        notifier.notify()
    }
}
