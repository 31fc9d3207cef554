/// A response the gateway makes itself (`routes[i].directResponse`).
public struct DirectResponseConfig: Sendable, Equatable {
    /// Final status, 200...599; default 200.
    public var status: Int
    /// Body; empty by default, and required to be empty for 204 and 304.
    public var body: String
    /// `Content-Type` sent with a non-empty body; default `text/plain`.
    public var contentType: String

    /// Creates a direct response with the documented defaults (docs/configuration.md).
    public init(status: Int = 200, body: String = "", contentType: String = "text/plain") {
        self.status = status
        self.body = body
        self.contentType = contentType
    }
}
