import CLinux
import Glibc

/// Socket system calls on raw descriptors, non-blocking, errors as `SystemError`.
public enum Socket {
    /// Opens a non-blocking listening socket with SO_REUSEADDR and SO_REUSEPORT, so every
    /// worker can bind its own socket to the same address and the kernel spreads connections.
    ///
    /// SO_REUSEPORT lets any socket of the same user that sets it share the address too (and
    /// take part of the connections): call `checkNoListener(on:)` first to refuse that.
    public static func listen(on address: SocketAddress, backlog: Int32 = 1024) throws(SystemError) -> Int32 {
        let fd = try openBound(address, reusingPort: true)
        guard Glibc.listen(fd, backlog) == 0 else {
            let error = SystemError("listen", errno: errno)
            closeDescriptor(fd)
            throw error
        }
        return fd
    }

    /// Throws EADDRINUSE (operation "bind") when any socket listens on `address`, whatever
    /// its options; returns at once for port 0.
    ///
    /// Binds and closes a probe socket with SO_REUSEADDR but without SO_REUSEPORT: Linux
    /// refuses it next to a listener (with or without SO_REUSEPORT), while connections left
    /// in TIME_WAIT by an earlier process do not count. Nothing holds the address afterwards,
    /// so two processes checking at the same instant can still both bind with SO_REUSEPORT.
    public static func checkNoListener(on address: SocketAddress) throws(SystemError) {
        guard address.port != 0 else { return }
        closeDescriptor(try openBound(address, reusingPort: false))
    }

    /// A new non-blocking socket bound to `address` with SO_REUSEADDR (and SO_REUSEPORT if asked).
    private static func openBound(_ address: SocketAddress, reusingPort: Bool) throws(SystemError) -> Int32 {
        let fd = clinux_socket_nonblocking(address.family)
        guard fd >= 0 else { throw SystemError("socket", errno: errno) }
        do throws(SystemError) {
            try setOption(fd, SOL_SOCKET, SO_REUSEADDR, 1)
            if reusingPort { try setOption(fd, SOL_SOCKET, SO_REUSEPORT, 1) }
            if address.family == AF_INET6 { try setOption(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, 1) }
            let bound = address.withSockAddr { Glibc.bind(fd, $0, $1) }
            guard bound == 0 else { throw SystemError("bind", errno: errno) }
        } catch {
            closeDescriptor(fd)
            throw error
        }
        return fd
    }

    /// The address a socket is bound to (to learn the port after binding port 0).
    public static func localAddress(_ fd: Int32) throws(SystemError) -> SocketAddress {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let result = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard result == 0, let address = SocketAddress(&storage) else {
            throw SystemError("getsockname", errno: errno)
        }
        return address
    }

    /// The outcome of one accept attempt.
    public enum Accepted {
        case connection(fd: Int32, peer: SocketAddress?)
        case wouldBlock
        /// A recoverable failure (EMFILE, ENFILE, ENOBUFS, ENOMEM, ECONNABORTED, ...).
        case failed(SystemError)
    }

    /// Accepts one connection as a non-blocking socket.
    public static func accept(_ listenFD: Int32) -> Accepted {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        while true {
            let fd = withUnsafeMutablePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { clinux_accept(listenFD, $0, &length) }
            }
            if fd >= 0 { return .connection(fd: fd, peer: SocketAddress(&storage)) }
            let code = errno
            switch code {
            case EINTR: continue
            case EAGAIN: return .wouldBlock
            case EBADF: fatalError("accept on a closed descriptor (EBADF)")
            default: return .failed(SystemError("accept", errno: code))
            }
        }
    }

    /// The outcome of starting a non-blocking connect.
    public enum ConnectStart {
        case connected
        case inProgress
    }

    /// Opens a non-blocking TCP socket and starts connecting it; returns the descriptor.
    public static func startConnect(to address: SocketAddress) throws(SystemError) -> (Int32, ConnectStart) {
        let fd = clinux_socket_nonblocking(address.family)
        guard fd >= 0 else { throw SystemError("socket", errno: errno) }
        let result = address.withSockAddr { Glibc.connect(fd, $0, $1) }
        if result == 0 { return (fd, .connected) }
        let code = errno
        if code == EINPROGRESS || code == EINTR { return (fd, .inProgress) }
        closeDescriptor(fd)
        throw SystemError("connect", errno: code)
    }

    /// The longest path a Unix-domain socket address holds (`sun_path` less its NUL).
    public static let maxUnixPathBytes = MemoryLayout<sockaddr_un>.size - MemoryLayout<sa_family_t>.size - 1

    /// Opens a non-blocking Unix-domain stream socket and connects it to `path`. Such a
    /// connect completes at once or fails (EAGAIN: the listener's backlog is full), so a
    /// started connect is a connected one.
    public static func connect(unixPath path: String) throws(SystemError) -> Int32 {
        let bytes = Array(path.utf8)
        guard !bytes.isEmpty, bytes.count <= maxUnixPathBytes else {
            throw SystemError("connect", errno: ENAMETOOLONG)
        }
        let fd = clinux_socket_nonblocking(AF_UNIX)
        guard fd >= 0 else { throw SystemError("socket", errno: errno) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in bytes.enumerated() { raw[index] = byte }
        }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard result == 0 else {
            let code = errno
            closeDescriptor(fd)
            throw SystemError("connect", errno: code)
        }
        return fd
    }

    /// The pending error of a socket (SO_ERROR): 0 once a non-blocking connect succeeded.
    public static func pendingError(_ fd: Int32) -> Int32 {
        var value: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        if getsockopt(fd, SOL_SOCKET, SO_ERROR, &value, &length) != 0 { return errno }
        return value
    }

    public static func setOption(_ fd: Int32, _ level: Int32, _ name: Int32, _ value: Int32)
        throws(SystemError)
    {
        var v = value
        guard setsockopt(fd, level, name, &v, socklen_t(MemoryLayout<Int32>.size)) == 0 else {
            throw SystemError("setsockopt", errno: errno)
        }
    }

    /// Disables Nagle: the gateway writes whole messages and wants them sent at once.
    public static func setNoDelay(_ fd: Int32) {
        var one: Int32 = 1
        _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
    }

    /// Makes close() send a reset instead of a FIN (for cancelling an exchange at once).
    public static func setResetOnClose(_ fd: Int32) {
        var option = linger(l_onoff: 1, l_linger: 0)
        _ = setsockopt(fd, SOL_SOCKET, SO_LINGER, &option, socklen_t(MemoryLayout<linger>.size))
    }

    /// Reads into `buffer`; `.processed(0)` means end of stream.
    @inline(__always)
    public static func read(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer) throws(SystemError)
        -> IOResult
    {
        try retryingSyscall("read") { Glibc.read(fd, buffer.baseAddress, buffer.count) }
    }

    /// Writes from `buffer` without raising SIGPIPE.
    @inline(__always)
    public static func write(_ fd: Int32, from buffer: UnsafeRawBufferPointer) throws(SystemError) -> IOResult
    {
        try retryingSyscall("write") { Glibc.send(fd, buffer.baseAddress, buffer.count, Int32(MSG_NOSIGNAL)) }
    }

    /// Shuts down the writing side (sends FIN) while still reading.
    public static func shutdownWrite(_ fd: Int32) { _ = Glibc.shutdown(fd, Int32(SHUT_WR)) }
}
