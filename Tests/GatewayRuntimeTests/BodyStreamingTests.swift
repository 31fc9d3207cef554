import PorticoTesting
import Synchronization
import Testing

@Suite(.serialized, .timeLimit(.minutes(1))) struct BodyStreamingTests {
    @Test func rechunksChunkedResponseWithTrailers() throws {
        let upstream = try FakeUpstream(
            handler: .chunked(["abc", "defgh"], trailers: [("X-Checksum", "42")]))
        let gateway = try GatewayHarness.simple(upstream)
        let response = try TestClient.get(port: gateway.port, path: "/")
        #expect(response.wasChunked)
        #expect(response.bodyString == "abcdefgh")
        #expect(response.trailer("X-Checksum") == "42")
    }

    @Test func sendsCloseDelimitedResponseChunkedToHTTP11Clients() throws {
        let upstream = try FakeUpstream(handler: .closeDelimited("until the end"))
        let gateway = try GatewayHarness.simple(upstream)
        let client = try gateway.client()
        let response = try client.request(path: "/")
        #expect(response.wasChunked)
        #expect(response.bodyString == "until the end")
        // The client connection stays usable; the upstream one could not be pooled.
        #expect(try client.request(path: "/again").bodyString == "until the end")
        #expect(upstream.acceptedConnections == 2)
    }

    @Test func forwardsChunkedRequestBodyChunkedWithTrailers() throws {
        let upstream = try FakeUpstream(handler: .echo)
        let gateway = try GatewayHarness.simple(upstream)
        let client = try gateway.client()
        try client.send(
            "POST /up HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "5\r\nhello\r\n6\r\n world\r\n0\r\nX-Sum: 7\r\nContent-Length: 99\r\n\r\n")
        #expect(try client.readResponse().status == 200)
        let received = try #require(upstream.receivedRequests.first)
        #expect(received.wasChunked)
        #expect(received.bodyString == "hello world")
        #expect(received.trailer("X-Sum") == "7")
        #expect(received.trailer("Content-Length") == nil)
    }

    @Test func forwardsContentLengthBody() throws {
        let upstream = try FakeUpstream(handler: .echo)
        let gateway = try GatewayHarness.simple(upstream)
        let body = [UInt8](repeating: UInt8(ascii: "x"), count: 300_000)
        let response = try gateway.client().request(method: "POST", path: "/big", body: body)
        #expect(response.status == 200)
        let received = try #require(upstream.receivedRequests.first)
        #expect(received.bodyByteCount == 300_000)
        #expect(received.header("Content-Length") == "300000")
    }

    @Test func streamsLargeResponseToSlowReader() throws {
        let upstream = try FakeUpstream(
            handler: FakeHandler { _, writer in
                let chunk = [UInt8](repeating: UInt8(ascii: "y"), count: 64 * 1024)
                try writer.writeHead(status: 200, headers: [("Content-Length", "\(chunk.count * 64)")])
                for _ in 0..<64 { try writer.write(chunk) }
            })
        let gateway = try GatewayHarness.simple(upstream)
        let client = try gateway.client()
        try client.sendRequest(path: "/")
        let response = try client.readResponse(storesBody: false)
        #expect(response.bodyByteCount == 64 * 64 * 1024)
    }

    /// The head waits for its body only as long as a read of the upstream takes: a body that
    /// comes later does not hold the head back.
    @Test func forwardsResponseHeadBeforeALateBody() throws {
        let bodyMayFollow = try TestLatch()
        let upstream = try FakeUpstream(
            handler: FakeHandler { _, writer in
                try writer.writeHead(status: 200, headers: [("Content-Length", "5")])
                try writer.wait(for: bodyMayFollow)
                try writer.write(Array("later".utf8))
            })
        let gateway = try GatewayHarness.simple(upstream)
        let client = try gateway.client()
        try client.sendRequest(path: "/")
        let head = try client.readHead(timeout: .seconds(5))
        #expect(head.status == 200)
        #expect(head.header("Content-Length") == "5")
        bodyMayFollow.open()
        #expect(try client.readBytes(count: 5, timeout: .seconds(5)) == Array("later".utf8))
    }

    @Test func cancelsUpstreamExchangeWhenClientLeaves() throws {
        let sawClose = Mutex(false)
        let upstream = try FakeUpstream { _, writer in
            let closed = try writer.waitForPeerClose(timeout: .seconds(10))
            sawClose.withLock { $0 = closed }
        }
        let gateway = try GatewayHarness.simple(upstream)
        let client = try gateway.client()
        try client.sendRequest(path: "/slow")
        _ = try upstream.waitForRequests(count: 1)
        client.close()
        try waitUntil("the gateway closes the upstream connection") { sawClose.withLock { $0 } }
    }
}
