import Testing

@testable import Reactor

@Suite struct PageMemoryTests {
    @Test(arguments: [1, 4096, 4097, 72 * 1024 + 1])
    func mapsWholeZeroedPages(byteCount: Int) {
        let size = PageMemory.mappedSize(byteCount)
        #expect(
            size >= byteCount && size % PageMemory.pageBytes == 0 && size - byteCount < PageMemory.pageBytes)
        let address = PageMemory.map(byteCount: byteCount)
        #expect(Int(bitPattern: address) % PageMemory.pageBytes == 0)
        let bytes = UnsafeMutableRawBufferPointer(start: address, count: size)
        #expect(bytes.allSatisfy { $0 == 0 })
        bytes[size - 1] = 0xff
        #expect(bytes[size - 1] == 0xff)
        PageMemory.unmap(address, byteCount: byteCount)
    }
}
