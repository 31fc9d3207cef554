/// Receives timer expirations. Loop-confined.
public protocol TimerHandler: AnyObject {
    /// Called on the loop thread when `timer` reaches its deadline (it is no longer scheduled).
    func timerFired(_ timer: LoopTimer)
}

/// A reusable one-shot timer owned by a loop-confined object; scheduling it again moves it.
///
/// Allocate one per purpose per connection and reuse it, so no allocation happens per request.
/// The owner must cancel it before it goes away (its `deinit` or close path).
public final class LoopTimer {
    /// Who is told when it fires. Unowned: the handler owns the timer, not the other way round.
    /// Settable so an owner can hold its timer in a `let` (made before `self` exists, bound
    /// at the end of its initializer): reading a `let` costs no reference counting.
    public unowned var handler: (any TimerHandler)?
    /// Free for the owner to tell its timers apart.
    public let tag: Int
    /// Monotonic nanoseconds at which it fires, while scheduled.
    public internal(set) var deadline: UInt64 = 0
    /// Position in the loop's heap, or -1 when not scheduled.
    var heapIndex: Int = -1

    public init(handler: (any TimerHandler)? = nil, tag: Int = 0) {
        self.handler = handler
        self.tag = tag
    }

    /// Whether the timer is waiting to fire.
    public var isScheduled: Bool { heapIndex >= 0 }
}
