/// A per-loop free list of socket buffers of one size, so the buffers that connections take
/// and give back around every request are recycled instead of allocated (idle connections
/// still hold none). Loop-confined.
final class BufferPool {
    let capacity: Int
    /// How many free buffers are kept; beyond that they go back to the allocator.
    private let maxFree: Int
    private var free: [UnsafeMutableRawBufferPointer] = []

    init(capacity: Int, maxFree: Int = 256) {
        self.capacity = capacity
        self.maxFree = maxFree
    }

    deinit {
        for buffer in free { buffer.deallocate() }
    }

    func take() -> UnsafeMutableRawBufferPointer {
        free.popLast() ?? .allocate(byteCount: capacity, alignment: 16)
    }

    func give(_ buffer: UnsafeMutableRawBufferPointer) {
        if buffer.count == capacity && free.count < maxFree {
            free.append(buffer)
        } else {
            buffer.deallocate()
        }
    }
}
