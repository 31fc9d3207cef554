/// Field names and fixed values the gateway writes, as bytes made once (appending a
/// string's UTF-8 view per request costs far more than copying a small array).
enum FieldName {
    static let host: [UInt8] = Array("Host".utf8)
    static let xForwardedFor: [UInt8] = Array("X-Forwarded-For".utf8)
    static let xForwardedProto: [UInt8] = Array("X-Forwarded-Proto".utf8)
    static let xForwardedHost: [UInt8] = Array("X-Forwarded-Host".utf8)
    static let xRequestID: [UInt8] = Array("X-Request-Id".utf8)
    static let xRequestTimeoutMs: [UInt8] = Array("X-Request-Timeout-Ms".utf8)
    static let xGatewayError: [UInt8] = Array("X-Gateway-Error".utf8)
    static let via: [UInt8] = Array("Via".utf8)
    static let date: [UInt8] = Array("Date".utf8)
    static let contentLength: [UInt8] = Array("Content-Length".utf8)
    static let contentType: [UInt8] = Array("Content-Type".utf8)
    static let transferEncoding: [UInt8] = Array("Transfer-Encoding".utf8)
    static let connection: [UInt8] = Array("Connection".utf8)
}

enum FieldValue {
    static let http: [UInt8] = Array("http".utf8)
    static let chunked: [UInt8] = Array("chunked".utf8)
    static let close: [UInt8] = Array("close".utf8)
    static let keepAlive: [UInt8] = Array("keep-alive".utf8)
    static let viaPortico: [UInt8] = Array("1.1 portico".utf8)
    static let listSeparator: [UInt8] = [UInt8(ascii: ","), 0x20]
    static let fieldSeparator: [UInt8] = [UInt8(ascii: ":"), 0x20]
    static let crlf: [UInt8] = [0x0d, 0x0a]
    static let requestLineEnd: [UInt8] = Array(" HTTP/1.1\r\n".utf8)
}
