/// One request as a `FakeUpstream` received it, recorded for the handler and the test.
package struct FakeRequest: Sendable {
    /// The method token, e.g. `GET`.
    package var method: String
    /// The request target exactly as sent, e.g. `/users/7?x=1`.
    package var target: String
    /// The protocol version, e.g. `HTTP/1.1`.
    package var version: String
    /// The header fields in wire order, duplicates kept.
    package var headers: [(String, String)]
    /// The decoded body; empty when the upstream only counts bodies.
    package var body: [UInt8]
    /// How many body bytes arrived (decoded), also when they were not stored.
    package var bodyByteCount: Int
    /// Trailer fields after a chunked body.
    package var trailers: [(String, String)]
    /// Whether the body used the chunked transfer coding.
    package var wasChunked: Bool
    /// Which accepted connection carried the request: 0 for the first, 1 for the second, ...
    package var connectionIndex: Int
    /// The position of the request on its connection: 0 for the first.
    package var indexOnConnection: Int
    /// The `name` of the `FakeUpstream` that received it.
    package var upstreamName: String

    /// Creates a request record; `FakeUpstream` fills these in while parsing.
    package init(
        method: String, target: String, version: String = "HTTP/1.1", headers: [(String, String)] = [],
        body: [UInt8] = [], trailers: [(String, String)] = [], wasChunked: Bool = false,
        connectionIndex: Int = 0, indexOnConnection: Int = 0, upstreamName: String = "upstream"
    ) {
        self.method = method
        self.target = target
        self.version = version
        self.headers = headers
        self.body = body
        self.bodyByteCount = body.count
        self.trailers = trailers
        self.wasChunked = wasChunked
        self.connectionIndex = connectionIndex
        self.indexOnConnection = indexOnConnection
        self.upstreamName = upstreamName
    }

    /// The target without its query, e.g. `/users/7`.
    package var path: String { String(target.prefix { $0 != "?" }) }

    /// The query after `?`, or nil when the target has none.
    package var query: String? {
        guard let mark = target.firstIndex(of: "?") else { return nil }
        return String(target[target.index(after: mark)...])
    }

    /// The first value of header `name` (case-insensitive), or nil.
    package func header(_ name: String) -> String? { HeaderList.first(name, in: headers) }

    /// Every value of header `name` (case-insensitive), in wire order.
    package func headers(_ name: String) -> [String] { HeaderList.values(name, in: headers) }

    /// The first value of trailer `name` (case-insensitive), or nil.
    package func trailer(_ name: String) -> String? { HeaderList.first(name, in: trailers) }

    /// The body decoded as UTF-8 (invalid sequences replaced).
    package var bodyString: String { String(decoding: body, as: UTF8.self) }
}
