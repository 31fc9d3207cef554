import Gateway
import Glibc

/// Reads and validates a configuration file (off the event loops).
public enum ConfigFile {
    /// The whole file's problems, as `json.path: message` lines, or the configuration.
    public static func load(path: String) -> Result<GatewayConfig, ConfigErrors> {
        guard let bytes = readFile(path) else {
            let reason = String(cString: strerror(errno))
            return .failure(ConfigErrors([ConfigError(path: path, message: "cannot read file: \(reason)")]))
        }
        return ConfigLoader.load(json: bytes, resolve: SystemResolver.resolve)
    }

    static func readFile(_ path: String) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                return nil
            }
            if count == 0 { return bytes }
            bytes.append(contentsOf: chunk[0..<count])
        }
    }
}
