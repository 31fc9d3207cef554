/// Header edits for one direction of a route (`requestHeaders` / `responseHeaders`).
///
/// Removal happens first, then `set` replaces any existing field of the same name. Framing and
/// hop-by-hop fields (and Host, for requests) are refused by validation: the gateway owns them.
public struct HeaderRulesConfig: Sendable, Equatable {
    /// Fields to set, in file order, names unique case-insensitively; none by default.
    public var set: [ConfigHeaderField]
    /// Field names to remove, in file order; none by default.
    public var remove: [String]

    /// Creates header rules; empty by default.
    public init(set: [ConfigHeaderField] = [], remove: [String] = []) {
        self.set = set
        self.remove = remove
    }

    /// True when there is nothing to do.
    public var isEmpty: Bool {
        self.set.isEmpty && remove.isEmpty
    }
}
