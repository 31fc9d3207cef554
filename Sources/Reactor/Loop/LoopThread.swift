import Glibc

/// A joinable OS thread (pthread), for running an event loop or a blocking writer for life.
public final class LoopThread: @unchecked Sendable {
    // @unchecked Sendable: `handle` is written once by `start` before any other thread can
    // see the object and only read by `join`.
    private var handle: pthread_t?

    private final class Body {
        let run: @Sendable () -> Void
        init(_ run: @escaping @Sendable () -> Void) { self.run = run }
    }

    private init() {}

    /// Starts `body` on a new thread.
    public static func start(_ body: @escaping @Sendable () -> Void) -> LoopThread {
        let thread = LoopThread()
        let context = Unmanaged.passRetained(Body(body)).toOpaque()
        var handle = pthread_t()
        let result = pthread_create(
            &handle, nil,
            { raw in
                let body = Unmanaged<Body>.fromOpaque(raw!).takeRetainedValue()
                body.run()
                return nil
            }, context)
        precondition(result == 0, "pthread_create failed: \(result)")
        thread.handle = handle
        return thread
    }

    /// Waits for the thread to finish.
    public func join() {
        guard let handle else { return }
        pthread_join(handle, nil)
        self.handle = nil
    }
}
