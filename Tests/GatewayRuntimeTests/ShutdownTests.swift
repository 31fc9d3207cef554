import Dispatch
import PorticoTesting
import Testing

@testable import GatewayRuntime

/// Connections and exchanges refer to their worker strongly (cheaper to use than an unowned
/// reference); stopping must end every such cycle so a stopped gateway frees its workers.
@Suite(.serialized, .timeLimit(.minutes(1))) struct ShutdownTests {
    /// Holds a worker weakly, filled in on the worker's own loop.
    private final class WeakWorker: @unchecked Sendable {
        // @unchecked Sendable: written once on the loop thread before the semaphore is
        // signalled, read by the test thread only after waiting on it.
        weak var worker: Worker?
    }

    @Test func stopNowFreesWorkersWithOpenConnectionsAndPooledUpstreams() throws {
        let upstream = try FakeUpstream(handler: .echo)
        let gateway = try GatewayHarness.simple(upstream)
        let client = try gateway.client()
        for index in 0..<3 {
            #expect(try client.request(path: "/item/\(index)").status == 200)
        }
        let weak = WeakWorker()
        do {
            let bound = try #require(gateway.server.workerLoops.first)
            let captured = DispatchSemaphore(value: 0)
            bound.loop.execute {
                weak.worker = bound.value
                captured.signal()
            }
            captured.wait()
        }
        #expect(weak.worker != nil)
        // The client connection is still open and the upstream connection pooled.
        gateway.server.stopNow()
        try waitUntil { weak.worker == nil }
        withExtendedLifetime(client) {}
    }
}
