import Glibc

/// Socket plumbing shared by the client, the fake upstream and `ProcessRunner.freePort()`.
///
/// Every descriptor is created close-on-exec (so spawned processes never inherit test sockets)
/// and nonblocking (so every wait goes through `poll` with a deadline).
enum LoopbackSocket {
    /// `127.0.0.1:port` as a socket address.
    static func address(port: UInt16) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
        return address
    }

    /// A new nonblocking, close-on-exec TCP socket.
    static func makeSocket() throws -> Int32 {
        let type = Int32(SOCK_STREAM.rawValue | SOCK_CLOEXEC.rawValue | SOCK_NONBLOCK.rawValue)
        let fd = socket(AF_INET, type, 0)
        if fd < 0 { throw TestingError.system("socket", errno) }
        return fd
    }

    /// Binds a listener to `127.0.0.1:0` and returns its descriptor and the chosen port.
    static func listen(backlog: Int32 = 128, receiveBufferBytes: Int? = nil) throws -> (Int32, UInt16) {
        let fd = try makeSocket()
        do {
            if let receiveBufferBytes {
                // Set on the listener so accepted sockets inherit it before the handshake
                // fixes the TCP window scale.
                try setOption(fd, SOL_SOCKET, SO_RCVBUF, Int32(clamping: receiveBufferBytes))
            }
            var address = address(port: 0)
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            if bound != 0 { throw TestingError.system("bind 127.0.0.1:0", errno) }
            if Glibc.listen(fd, backlog) != 0 { throw TestingError.system("listen", errno) }
            return (fd, try boundPort(fd))
        } catch {
            Glibc.close(fd)
            throw error
        }
    }

    /// Connects to `127.0.0.1:port`, waiting at most until `deadline` for the handshake.
    /// `sourceHost` (a 127.x.y.z loopback address) binds the client's end first, so the
    /// server sees that address as its peer.
    static func connect(port: UInt16, deadline: Deadline, sourceHost: UInt32? = nil) throws -> Int32 {
        let fd = try makeSocket()
        do {
            if let sourceHost {
                var source = address(port: 0)
                source.sin_addr.s_addr = sourceHost.bigEndian
                let bound = withUnsafePointer(to: &source) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                    }
                }
                if bound != 0 { throw TestingError.system("bind the client's source address", errno) }
            }
            var address = address(port: port)
            let result = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            if result != 0 {
                guard errno == EINPROGRESS else {
                    throw TestingError.system("connect to 127.0.0.1:\(port)", errno)
                }
                if try waitForEvents(fd, POLLOUT, deadline: deadline) == .timedOut {
                    throw TestingError.timedOut("connecting to 127.0.0.1:\(port)")
                }
                var failure: Int32 = 0
                var length = socklen_t(MemoryLayout<Int32>.size)
                getsockopt(fd, SOL_SOCKET, SO_ERROR, &failure, &length)
                if failure != 0 { throw TestingError.system("connect to 127.0.0.1:\(port)", failure) }
            }
            return fd
        } catch {
            Glibc.close(fd)
            throw error
        }
    }

    /// The local port a socket is bound to.
    static func boundPort(_ fd: Int32) throws -> UInt16 {
        var address = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let result = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        if result != 0 { throw TestingError.system("getsockname", errno) }
        return UInt16(bigEndian: address.sin_port)
    }

    /// A connected pair of close-on-exec Unix stream sockets, used wherever a pipe is needed.
    ///
    /// Unlike `pipe(2)` + `fcntl` this is atomic with respect to `posix_spawn` in other threads
    /// (`pipe2` is not importable without `_GNU_SOURCE`), so no child inherits the ends.
    static func makeSocketPair() throws -> (Int32, Int32) {
        var fds: [Int32] = [0, 0]
        let type = Int32(SOCK_STREAM.rawValue | SOCK_CLOEXEC.rawValue)
        if socketpair(AF_UNIX, type, 0, &fds) != 0 { throw TestingError.system("socketpair", errno) }
        return (fds[0], fds[1])
    }

    /// Sets an integer socket option.
    static func setOption(_ fd: Int32, _ level: Int32, _ name: Int32, _ value: Int32) throws {
        var value = value
        if setsockopt(fd, level, name, &value, socklen_t(MemoryLayout<Int32>.size)) != 0 {
            throw TestingError.system("setsockopt", errno)
        }
    }

    /// Closes `fd` with `SO_LINGER` 0 so the kernel sends RST instead of FIN.
    static func resetClose(_ fd: Int32) {
        var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
        Glibc.close(fd)
    }

    /// Writes all of `bytes`, waiting for buffer space within `limit`.
    ///
    /// Uses `MSG_NOSIGNAL` so a closed peer yields an error instead of killing the test process
    /// with SIGPIPE. Throws `TestingError.stopped` if `wakeFd` becomes readable.
    static func sendAll(
        _ fd: Int32, _ bytes: UnsafeRawBufferPointer, limit: WaitLimit, wakeFd: Int32? = nil, what: String
    ) throws {
        var offset = 0
        while offset < bytes.count {
            let sent = send(fd, bytes.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL))
            if sent >= 0 {
                offset += sent
                continue
            }
            switch errno {
            case EINTR:
                continue
            case EAGAIN:
                switch try waitForEvents(fd, POLLOUT, wakeFd: wakeFd, deadline: limit.nextDeadline()) {
                case .ready: continue
                case .woken: throw TestingError.stopped
                case .timedOut:
                    throw TestingError.timedOut("sending \(what) (\(offset) of \(bytes.count) bytes sent)")
                }
            case ECONNRESET, EPIPE:
                throw TestingError.connectionReset("while sending \(what) (errno \(errno))")
            default:
                throw TestingError.system("send \(what)", errno)
            }
        }
    }
}
