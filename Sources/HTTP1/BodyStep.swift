/// What one `BodyDecoder.decode` call did with its input.
public struct BodyStep: Sendable {
    /// How many bytes at the front of the input were used; the rest belongs to later calls (or,
    /// once complete, to the next message).
    public var consumed: Int
    /// Body bytes found, as offsets into the input (inside `0..<consumed`); never empty.
    public var data: Range<Int>?
    /// The body ended within the consumed bytes.
    public var isComplete: Bool
    /// The trailer fields of a chunked body; only on the step that completes it.
    public var trailers: [TrailerField]

    /// Creates a step.
    public init(consumed: Int, data: Range<Int>?, isComplete: Bool, trailers: [TrailerField] = []) {
        self.consumed = consumed
        self.data = data
        self.isComplete = isComplete
        self.trailers = trailers
    }
}
