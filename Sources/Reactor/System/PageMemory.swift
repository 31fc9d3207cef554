import Glibc

/// Anonymous memory mapped straight from the kernel, outside the malloc heap.
///
/// For large, long-lived buffers: unmapping one returns all of its pages at once, whereas a
/// buffer freed to malloc leaves every page it touched resident inside the heap, where small
/// objects allocated later fill the gaps and keep them there.
public enum PageMemory {
    /// The system page size.
    public static let pageBytes = max(4096, sysconf(Int32(_SC_PAGESIZE)))

    /// `byteCount` rounded up to whole pages: the size `map` actually maps.
    public static func mappedSize(_ byteCount: Int) -> Int {
        (byteCount + pageBytes - 1) / pageBytes * pageBytes
    }

    /// Maps zeroed, readable and writable pages for at least `byteCount` bytes (page aligned;
    /// no page is resident until it is touched). Traps when the kernel has no memory left,
    /// like any allocation.
    public static func map(byteCount: Int) -> UnsafeMutableRawPointer {
        precondition(byteCount > 0)
        let size = mappedSize(byteCount)
        let address = Glibc.mmap(nil, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
        guard let address, address != UnsafeMutableRawPointer(bitPattern: -1) else {
            fatalError("mmap of \(size) bytes failed: errno \(errno)")
        }
        return address
    }

    /// Unmaps what `map(byteCount:)` returned, with the same `byteCount`.
    public static func unmap(_ address: UnsafeMutableRawPointer, byteCount: Int) {
        // munmap fails only for arguments that were never mapped: a bug.
        guard Glibc.munmap(address, mappedSize(byteCount)) == 0 else {
            fatalError("munmap failed: errno \(errno)")
        }
    }
}
