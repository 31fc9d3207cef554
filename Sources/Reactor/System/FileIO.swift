import Glibc

/// Blocking I/O on files, pipes and the standard streams, through the same EINTR-retrying
/// helper as the sockets: for the log writers and configuration reads, never on a loop.
public enum FileIO {
    /// Writes all of `bytes` (a partial write continues where it stopped); false when the
    /// descriptor fails or would block (the caller drops what is left).
    @discardableResult
    public static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let rest = UnsafeRawBufferPointer(rebasing: bytes[offset...])
            let result = Result { () throws(SystemError) in
                try retryingSyscall("write") { Glibc.write(fd, rest.baseAddress, rest.count) }
            }
            guard case .success(.processed(let count)) = result, count > 0 else { return false }
            offset += count
        }
        return true
    }

    @discardableResult
    public static func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { writeAll(fd, $0) }
    }

    /// The whole content of the file at `path`.
    public static func readFile(_ path: String) throws(SystemError) -> [UInt8] {
        let fd = try syscall("open") { Glibc.open(path, O_RDONLY | O_CLOEXEC) }
        defer { closeDescriptor(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let outcome = chunk.withUnsafeMutableBytes { raw in
                Result { () throws(SystemError) in
                    try retryingSyscall("read") { Glibc.read(fd, raw.baseAddress, raw.count) }
                }
            }
            guard case .processed(let count) = try outcome.get(), count > 0 else { return bytes }
            bytes.append(contentsOf: chunk[0..<count])
        }
    }
}
