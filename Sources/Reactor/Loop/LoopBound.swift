/// Carries a loop-confined value through a `@Sendable` task to the loop that owns it.
///
/// The value must only be used on `loop`'s thread; `value` checks that in debug builds.
public struct LoopBound<Value>: @unchecked Sendable {
    // @unchecked Sendable: the wrapped value is only read on its owning loop's thread,
    // which the accessor asserts; the wrapper itself is just moved between threads.
    private let wrapped: Value
    public let loop: EventLoop

    public init(_ value: Value, loop: EventLoop) {
        self.wrapped = value
        self.loop = loop
    }

    public var value: Value {
        assert(loop.isCurrent, "loop-bound value used off its loop")
        return wrapped
    }
}
