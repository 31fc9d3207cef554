import Glibc
import PorticoTesting

/// A real `redis-server` (Debian package `redis-server`) on a free loopback port, with a
/// temporary directory and no persistence, stopped by pid when the test ends. Tests that
/// need one are skipped when it is not installed (`.enabled(if: RedisServer.isInstalled)`);
/// `.ci/run` installs it.
final class RedisServer {
    static let executable = "/usr/bin/redis-server"
    static var isInstalled: Bool { access(executable, X_OK) == 0 }

    let port: UInt16
    let password: String?
    private var process: ProcessRunner?
    private let directory: String

    /// Also listening on this Unix-domain socket (in the server's directory) when asked for.
    let unixSocket: String?

    init(port: UInt16? = nil, password: String? = nil, unixSocket: Bool = false) throws {
        self.port = try port ?? ProcessRunner.freePort()
        self.password = password
        var template = Array("/tmp/portico-redis.XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw TestingError.system("mkdtemp", errno) }
        directory = String(cString: made)
        self.unixSocket = unixSocket ? directory + "/redis.sock" : nil
        try start()
    }

    deinit {
        process?.terminate()
        _ = try? process?.waitForExit(timeout: .seconds(5))
        _ = unlink(directory + "/redis.log")
        if let unixSocket { _ = unlink(unixSocket) }
        _ = rmdir(directory)
    }

    /// Starts the server (again, on the same port) and waits until it answers.
    func start() throws {
        var arguments = [
            "--port", "\(port)", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
            "--dir", directory, "--logfile", directory + "/redis.log",
        ]
        if let password { arguments += ["--requirepass", password] }
        if let unixSocket { arguments += ["--unixsocket", unixSocket, "--unixsocketperm", "700"] }
        process = try ProcessRunner(executable: Self.executable, arguments: arguments)
        try waitUntil("redis-server listens on \(port)", timeout: .seconds(10)) {
            (try? TestClient(port: port, timeout: .seconds(1))) != nil
        }
    }

    /// Kills the server at once (SIGKILL: no goodbye on its connections).
    func kill() throws {
        try process?.signal(SIGKILL)
        _ = try process?.waitForExit(timeout: .seconds(5))
        process = nil
    }

    /// SIGSTOP / SIGCONT: a server that accepts bytes and answers nothing.
    func pause() throws { try process?.signal(SIGSTOP) }
    func resume() throws { try process?.signal(SIGCONT) }

    var address: String { "127.0.0.1:\(port)" }
}
