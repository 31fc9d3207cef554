/// Size limits a head parser enforces.
public struct HeadLimits: Sendable {
    /// The most bytes a head may take, from offset 0 through the LF of the blank line that ends
    /// it (leading empty lines included). A request line that does not end within it is 414,
    /// any other overrun 431 (responses: `.headersTooLarge`).
    public var maxHeaderBytes: Int

    /// Creates limits; `maxHeaderBytes` must be positive and below 2 GiB (spans are 32-bit).
    public init(maxHeaderBytes: Int) {
        precondition(maxHeaderBytes > 0 && maxHeaderBytes < Int(Int32.max), "bad maxHeaderBytes")
        self.maxHeaderBytes = maxHeaderBytes
    }
}
