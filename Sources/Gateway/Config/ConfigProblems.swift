/// Problems found while decoding, each with the byte offset it refers to so they can be
/// reported in file order.
struct ConfigProblems {
    private var entries: [(offset: Int, error: ConfigError)] = []

    var isEmpty: Bool {
        entries.isEmpty
    }

    mutating func add(_ path: String, _ message: String, at offset: Int) {
        entries.append((offset, ConfigError(path: path, message: message)))
    }

    /// The problems by offset; problems at the same offset keep the order they were found in.
    func sorted() -> [ConfigError] {
        entries.enumerated()
            .sorted { ($0.element.offset, $0.offset) < ($1.element.offset, $1.offset) }
            .map(\.element.error)
    }
}
