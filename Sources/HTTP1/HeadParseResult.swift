/// The outcome of feeding bytes to a head parser: not enough bytes yet, or a complete head.
public enum HeadParseResult<Head: Sendable>: Sendable {
    /// The head is not complete; call again with the same bytes plus more.
    case needMore
    /// The head is complete; its `headLength` bytes belong to it and the body (if any) follows.
    case complete(Head)
}

extension HeadParseResult: Equatable where Head: Equatable {}
