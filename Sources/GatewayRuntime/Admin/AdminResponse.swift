import Gateway

/// One admin answer, before serialization.
struct AdminResponse: Sendable {
    var status: Int
    var contentType: String = "application/json"
    var body: [UInt8]
    var headers: [(String, String)] = []

    static func json(_ status: Int, _ value: JSONValue) -> AdminResponse {
        var body: [UInt8] = []
        value.write(to: &body, pretty: false)
        body.append(UInt8(ascii: "\n"))
        return AdminResponse(status: status, body: body)
    }

    static func error(_ status: Int, _ code: String, _ message: String) -> AdminResponse {
        .json(status, .object([("error", .string(code)), ("message", .string(message))]))
    }
}
