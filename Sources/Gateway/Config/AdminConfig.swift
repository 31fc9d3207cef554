/// The admin endpoint (`admin`), on its own listener.
public struct AdminConfig: Sendable, Equatable {
    /// The address `127.0.0.1:9901`, the default admin address.
    public static let defaultAddress = ConfigAddress(
        host: "127.0.0.1", port: 9901, ip: .v4(0x7F00_0001), text: "127.0.0.1:9901")

    /// Where the admin endpoint listens; `127.0.0.1:9901` by default.
    public var address: ConfigAddress
    /// Bearer token required by every admin request except `GET /`, `/healthz` and `/ready`;
    /// nil by default, which validation allows only on a loopback address. Never print it.
    public var token: String?

    /// Creates an admin endpoint configuration with the documented defaults (docs/configuration.md).
    public init(address: ConfigAddress = AdminConfig.defaultAddress, token: String? = nil) {
        self.address = address
        self.token = token
    }
}
