/// One HTTP/1.1 response as a `TestClient` read it off the wire.
package struct TestResponse: Sendable {
    /// The protocol version from the status line, e.g. `HTTP/1.1`.
    package var version: String
    /// The status code.
    package var status: Int
    /// The reason phrase (may be empty).
    package var reason: String
    /// The header fields in wire order, duplicates kept.
    package var headers: [(String, String)]
    /// The decoded body (dechunked); empty when the body was only counted.
    package var body: [UInt8]
    /// How many body bytes arrived (decoded), also when they were not stored.
    package var bodyByteCount: Int
    /// Trailer fields after a chunked body.
    package var trailers: [(String, String)]
    /// Whether the body used the chunked transfer coding.
    package var wasChunked: Bool
    /// Whether the body was delimited by the server closing the connection.
    package var wasCloseDelimited: Bool
    /// Interim (1xx) responses received before this final one, in order.
    package var interim: [TestResponse]
    /// The head exactly as received, for diagnostics.
    package var rawHead: String

    /// How the body is delimited; kept so a head read alone can be completed later.
    var framing: BodyFraming = .none

    /// Creates a response; `TestClient` fills these in while parsing.
    package init(
        version: String = "HTTP/1.1", status: Int, reason: String = "", headers: [(String, String)] = [],
        body: [UInt8] = [], trailers: [(String, String)] = [], wasChunked: Bool = false
    ) {
        self.version = version
        self.status = status
        self.reason = reason
        self.headers = headers
        self.body = body
        self.bodyByteCount = body.count
        self.trailers = trailers
        self.wasChunked = wasChunked
        self.wasCloseDelimited = false
        self.interim = []
        self.rawHead = ""
    }

    /// The first value of header `name` (case-insensitive), or nil.
    package func header(_ name: String) -> String? { HeaderList.first(name, in: headers) }

    /// Every value of header `name` (case-insensitive), in wire order.
    package func headers(_ name: String) -> [String] { HeaderList.values(name, in: headers) }

    /// The first value of trailer `name` (case-insensitive), or nil.
    package func trailer(_ name: String) -> String? { HeaderList.first(name, in: trailers) }

    /// The body decoded as UTF-8 (invalid sequences replaced).
    package var bodyString: String { String(decoding: body, as: UTF8.self) }

    /// The body parsed as JSON; throws `TestingError.malformed` if it is not JSON.
    package func json() throws -> TestJSON { try TestJSON(parsing: body) }

    /// The string member `key` of a top-level JSON object body, e.g. `jsonString("error")`.
    ///
    /// Returns nil when the body is not a JSON object or the member is missing or not a string.
    package func jsonString(_ key: String) -> String? { (try? json())?[key]?.stringValue }
}
