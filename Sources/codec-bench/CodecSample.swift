/// A request head the codec benchmark parses over and over.
struct CodecSample {
    /// A short label for the results table.
    let name: String
    /// The whole head, request line through the blank line.
    let bytes: [UInt8]

    init(name: String, lines: [String]) {
        self.name = name
        self.bytes = Array((lines.joined(separator: "\r\n") + "\r\n\r\n").utf8)
    }

    /// What a command-line client sends: request line, Host, User-Agent, Accept.
    static let smallGet = CodecSample(
        name: "small GET",
        lines: [
            "GET /users/42 HTTP/1.1",
            "Host: api.example.com",
            "User-Agent: curl/7.88.1",
            "Accept: */*",
        ])

    /// A browser navigation with 17 fields, as a current Chromium sends it.
    static let browser = CodecSample(
        name: "browser-like",
        lines: [
            "GET /products/shoes/running?color=blue&size=42&sort=price_asc HTTP/1.1",
            "Host: www.example.com",
            "Connection: keep-alive",
            "Cache-Control: max-age=0",
            "sec-ch-ua: \"Chromium\";v=\"124\", \"Google Chrome\";v=\"124\", \"Not-A.Brand\";v=\"99\"",
            "sec-ch-ua-mobile: ?0",
            "sec-ch-ua-platform: \"Linux\"",
            "Upgrade-Insecure-Requests: 1",
            "User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
                + "Chrome/124.0.0.0 Safari/537.36",
            "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,"
                + "image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7",
            "Sec-Fetch-Site: same-origin",
            "Sec-Fetch-Mode: navigate",
            "Sec-Fetch-User: ?1",
            "Sec-Fetch-Dest: document",
            "Referer: https://www.example.com/products/shoes",
            "Accept-Encoding: gzip, deflate, br, zstd",
            "Accept-Language: en-US,en;q=0.9,de;q=0.8",
            "Cookie: session=3f9a1c7be2d04e55a8c1f0b96d2e7a41; _ga=GA1.1.1234567890.1700000000; "
                + "theme=dark; cart=7c1e",
        ])
}
