import Glibc

/// A joinable POSIX thread running one closure; the test helpers' unit of concurrency.
struct TestThread: Sendable {
    private let handle: pthread_t

    private final class Body {
        let run: @Sendable () -> Void
        init(_ run: @escaping @Sendable () -> Void) { self.run = run }
    }

    /// Starts a thread running `body`; traps if the system cannot create a thread.
    static func start(_ body: @escaping @Sendable () -> Void) -> TestThread {
        let context = Unmanaged.passRetained(Body(body)).toOpaque()
        var handle = pthread_t()
        let result = pthread_create(
            &handle, nil,
            { context in
                let body = Unmanaged<Body>.fromOpaque(context!).takeRetainedValue()
                body.run()
                return nil
            }, context)
        precondition(result == 0, "pthread_create failed: \(errnoText(result))")
        return TestThread(handle: handle)
    }

    /// Blocks until the thread has finished; call exactly once.
    ///
    /// Called from the thread itself (its owner was released there), it detaches instead,
    /// since a thread cannot wait for its own end.
    func join() {
        if pthread_equal(handle, pthread_self()) != 0 {
            pthread_detach(handle)
            return
        }
        let result = pthread_join(handle, nil)
        precondition(result == 0, "pthread_join failed: \(errnoText(result))")
    }
}
