import HTTP1

/// A fixed-capacity byte buffer with a read and a write index, used for socket I/O.
///
/// Its memory is allocated on first use and can be released when empty, so an idle
/// keep-alive connection holds no buffer. Loop-confined; not copyable, so two owners can
/// never share (and double-free) one allocation.
struct ByteBuffer: ~Copyable {
    // Compact on purpose (32-bit sizes, a bare pointer): every connection holds two of
    // these, and an idle connection should cost well under 512 bytes.
    private var storage: UnsafeMutableRawPointer?
    private let storedCapacity: UInt32
    private var storedReadIndex: UInt32 = 0
    private var storedWriteIndex: UInt32 = 0
    /// Where storage comes from and goes back to; nil: the allocator. Unretained: the pool
    /// belongs to the loop, which outlives every connection and its buffers (and, unlike an
    /// unowned reference, using it costs no retain/release pair).
    private let pool: Unmanaged<BufferPool>?

    init(capacity: Int, pool: BufferPool? = nil) {
        precondition(capacity > 0 && capacity <= Int(UInt32.max))
        self.storedCapacity = UInt32(capacity)
        self.pool = pool?.capacity == capacity ? pool.map { Unmanaged.passUnretained($0) } : nil
    }

    deinit {
        guard let storage else { return }
        release(storage)
    }

    var capacity: Int { Int(storedCapacity) }
    private(set) var readIndex: Int {
        get { Int(storedReadIndex) }
        set { storedReadIndex = UInt32(truncatingIfNeeded: newValue) }
    }
    private(set) var writeIndex: Int {
        get { Int(storedWriteIndex) }
        set { storedWriteIndex = UInt32(truncatingIfNeeded: newValue) }
    }

    /// Bytes written and not yet consumed.
    var readableCount: Int { writeIndex - readIndex }
    var isEmpty: Bool { storedReadIndex == storedWriteIndex }
    /// Room left at the end (after compaction, if `compact()` was called).
    var writableCount: Int { capacity - writeIndex }

    /// The unread bytes. Valid until the next mutation.
    var readable: UnsafeRawBufferPointer {
        guard let storage else { return UnsafeRawBufferPointer(start: nil, count: 0) }
        return UnsafeRawBufferPointer(start: storage + readIndex, count: readableCount)
    }

    /// The free space at the end, for a read(2) to fill; call `didWrite` after.
    mutating func writableSpace() -> UnsafeMutableRawBufferPointer {
        let storage = ensureStorage()
        return UnsafeMutableRawBufferPointer(start: storage + writeIndex, count: writableCount)
    }

    mutating func didWrite(_ count: Int) {
        precondition(writeIndex + count <= capacity)
        writeIndex += count
    }

    mutating func consume(_ count: Int) {
        precondition(count <= readableCount)
        readIndex += count
        if readIndex == writeIndex {
            readIndex = 0
            writeIndex = 0
        }
    }

    /// Drops the last `count` unread bytes (appended but not yet consumed).
    mutating func removeLast(_ count: Int) {
        precondition(count <= readableCount)
        writeIndex -= count
        if readIndex == writeIndex {
            readIndex = 0
            writeIndex = 0
        }
    }

    /// Moves unread bytes to the front so the whole free space is at the end.
    mutating func compact() {
        guard readIndex > 0, let storage else { return }
        let count = readableCount
        if count > 0 {
            storage.copyMemory(from: storage + readIndex, byteCount: count)
        }
        readIndex = 0
        writeIndex = count
    }

    /// Compacts only when the free space at the end is below `minimum`.
    mutating func makeRoom(atLeast minimum: Int) {
        if writableCount < minimum { compact() }
    }

    /// Appends bytes; the caller checks room first (`writableCount`, after compaction).
    mutating func append(_ bytes: UnsafeRawBufferPointer) {
        guard bytes.count > 0 else { return }
        if writableCount < bytes.count { compact() }
        precondition(writableCount >= bytes.count, "ByteBuffer overflow")
        let storage = ensureStorage()
        (storage + writeIndex).copyMemory(from: bytes.baseAddress!, byteCount: bytes.count)
        writeIndex += bytes.count
    }

    /// Moves as many unread bytes as fit into `destination` (compacting it when that makes
    /// room), in order; returns how many.
    mutating func moveReadable(to destination: inout ByteBuffer) -> Int {
        guard !isEmpty else { return 0 }
        if destination.writableCount < readableCount { destination.compact() }
        let count = min(readableCount, destination.writableCount)
        guard count > 0 else { return 0 }
        destination.append(UnsafeRawBufferPointer(rebasing: readable[0..<count]))
        consume(count)
        return count
    }

    mutating func append(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { append($0) }
    }

    /// Frees the memory when nothing is buffered (idle connections hold no buffer).
    mutating func releaseIfEmpty() {
        guard isEmpty, let storage else { return }
        release(storage)
        self.storage = nil
        readIndex = 0
        writeIndex = 0
    }

    private mutating func ensureStorage() -> UnsafeMutableRawPointer {
        if let storage { return storage }
        let fresh =
            pool?._withUnsafeGuaranteedRef { $0.take().baseAddress }
            ?? UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 16)
        storage = fresh
        return fresh
    }

    private func release(_ storage: UnsafeMutableRawPointer) {
        if let pool {
            pool._withUnsafeGuaranteedRef {
                $0.give(UnsafeMutableRawBufferPointer(start: storage, count: capacity))
            }
        } else {
            storage.deallocate()
        }
    }

    /// Appends a chunk-size line (lowercase hex + CRLF) without an intermediate array.
    mutating func appendChunkHeader(size: Int) {
        HTTP1Writer.withDigits(of: UInt64(size), radix: 16) { append($0) }
        appendCRLF()
    }

    /// Appends CRLF (after a chunk's data, or a chunk-size line).
    mutating func appendCRLF() {
        ("\r\n" as StaticString).withUTF8Buffer { append(UnsafeRawBufferPointer($0)) }
    }
}
