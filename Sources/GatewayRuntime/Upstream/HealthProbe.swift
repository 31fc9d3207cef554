import Gateway
import Reactor

/// The active health check of one server (docs/configuration.md, `healthCheck`): every
/// `intervalMs` a `GET path` on a new connection; a 2xx or 3xx status line within `timeoutMs`
/// passes, anything else (refused, reset, closed early, another status, too slow) fails. The
/// result goes to the server's shared `ServerHealth`, which every worker's balancer reads.
///
/// Loop-confined to the health prober's loop.
final class HealthProbe: IOHandler, TimerHandler {
    private enum Phase {
        /// Between probes; the timer fires when the next one is due.
        case waiting
        case connecting
        case sending
        case reading
    }

    let upstreamName: String
    private(set) var server: RuntimeServer
    private(set) var config: HealthCheckConfig
    private let loop: EventLoop
    private let log: ProcessLog
    private var phase = Phase.waiting
    private var fd: Int32 = -1
    private var request: [UInt8] = []
    private var sent = 0
    private var response: [UInt8] = []
    /// The next probe while waiting; the probe's time limit while one runs.
    private let timer = LoopTimer()
    /// The longest status line read (a real one is about 20 bytes).
    private static let statusLineLimit = 1024

    init(
        upstreamName: String, server: RuntimeServer, config: HealthCheckConfig, loop: EventLoop,
        log: ProcessLog
    ) {
        self.upstreamName = upstreamName
        self.server = server
        self.config = config
        self.loop = loop
        self.log = log
        timer.handler = self
    }

    /// Takes a new generation's settings (the server keeps its health: it lives in its state).
    func update(server: RuntimeServer, config: HealthCheckConfig) {
        self.server = server
        self.config = config
    }

    /// Probes at once, then every `intervalMs`.
    func start() {
        loop.schedule(timer, at: loop.instant)
    }

    /// Stops probing (the server or its check left the configuration, or the gateway stops).
    func stop() {
        loop.cancel(timer)
        closeSocket()
        phase = .waiting
    }

    // MARK: One probe

    func timerFired(_ timer: LoopTimer) {
        if case .waiting = phase {
            begin()
        } else {
            finish(passed: false, reason: "no answer within \(config.timeout)")
        }
    }

    private func begin() {
        request = Array(
            "GET \(config.path) HTTP/1.1\r\nHost: \(server.key)\r\nUser-Agent: portico-health-check\r\nConnection: close\r\n\r\n"
                .utf8)
        sent = 0
        response.removeAll(keepingCapacity: true)
        loop.schedule(timer, at: loop.instant + config.timeout)
        do throws(SystemError) {
            let (socket, progress) = try Socket.startConnect(to: server.address)
            fd = socket
            do {
                try loop.register(socket, handler: self)
            } catch {
                closeSocket()
                throw error
            }
            phase = progress == .connected ? .sending : .connecting
            if progress == .connected { send() }
        } catch {
            finish(passed: false, reason: error.reason)
        }
    }

    func handleIO(_ events: IOEvents) {
        switch phase {
        case .connecting:
            let code = Socket.pendingError(fd)
            guard code == 0 else {
                finish(passed: false, reason: SystemError("connect", errno: code).reason)
                return
            }
            phase = .sending
            send()
        case .sending:
            send()
        case .reading:
            receive()
        case .waiting:
            break
        }
    }

    private func send() {
        while sent < request.count {
            let result = request.withUnsafeBytes { raw in
                Result { () throws(SystemError) in
                    try Socket.write(fd, from: UnsafeRawBufferPointer(rebasing: raw[sent...]))
                }
            }
            switch result {
            case .success(.processed(let count)): sent += count
            case .success(.wouldBlock): return
            case .failure(let error):
                finish(passed: false, reason: error.reason)
                return
            }
        }
        phase = .reading
        receive()
    }

    private func receive() {
        var chunk = [UInt8](repeating: 0, count: 512)
        while true {
            let result = chunk.withUnsafeMutableBytes { raw in
                Result { () throws(SystemError) in try Socket.read(fd, into: raw) }
            }
            switch result {
            case .success(.processed(0)):
                finish(passed: false, reason: "closed before a status line")
                return
            case .success(.processed(let count)):
                response.append(contentsOf: chunk[0..<count])
                if let status = Self.status(in: response) {
                    let passed = (200...399).contains(status)
                    finish(passed: passed, reason: "status \(status)")
                    return
                }
                if response.count > Self.statusLineLimit {
                    finish(passed: false, reason: "no status line")
                    return
                }
            case .success(.wouldBlock):
                return
            case .failure(let error):
                finish(passed: false, reason: error.reason)
                return
            }
        }
    }

    /// The status code of a complete `HTTP/1.x NNN ...` line; nil while the line is incomplete,
    /// 0 for a line that is not a status line.
    static func status(in bytes: [UInt8]) -> Int? {
        guard let end = bytes.firstIndex(of: UInt8(ascii: "\n")) else { return nil }
        let line = bytes[..<end]
        guard line.count >= 12, line.starts(with: Array("HTTP/1.".utf8)), line[line.startIndex + 8] == 0x20
        else { return 0 }
        var status = 0
        for byte in line[(line.startIndex + 9)..<(line.startIndex + 12)] {
            guard byte &- UInt8(ascii: "0") < 10 else { return 0 }
            status = status * 10 + Int(byte &- UInt8(ascii: "0"))
        }
        return status
    }

    private func finish(passed: Bool, reason: String) {
        closeSocket()
        phase = .waiting
        let transition = server.state.health.record(passed: passed, config)
        switch transition {
        case .becameUnhealthy:
            log.warn(
                "server unhealthy; taken out",
                ["upstream": upstreamName, "server": server.key, "reason": reason])
        case .becameHealthy:
            log.info("server healthy; put back", ["upstream": upstreamName, "server": server.key])
        case nil:
            break
        }
        loop.schedule(timer, at: loop.instant + config.interval)
    }

    private func closeSocket() {
        guard fd >= 0 else { return }
        loop.deregister(fd)
        closeDescriptor(fd)
        fd = -1
    }
}
