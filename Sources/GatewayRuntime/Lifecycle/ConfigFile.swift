import Gateway
import Reactor

/// Reads and validates a configuration file (off the event loops).
package enum ConfigFile {
    /// The whole file's problems, as `json.path: message` lines, or the configuration.
    package static func load(path: String) -> Result<GatewayConfig, ConfigErrors> {
        let bytes: [UInt8]
        do throws(SystemError) {
            bytes = try FileIO.readFile(path)
        } catch {
            return .failure(
                ConfigErrors([ConfigError(path: path, message: "cannot read file: \(error.reason)")]))
        }
        return ConfigLoader.load(json: bytes, resolve: SystemResolver.resolve)
    }
}
