/// A JSON object being decoded: its members by key (first occurrence wins) and its json path.
struct ConfigObject {
    let path: String
    let offset: Int
    /// Offset of the closing brace, where problems about missing keys are reported.
    let lastOffset: Int
    private let members: [String: JSONNode.Member]
    let memberOrder: [JSONNode.Member]

    init(path: String, offset: Int, lastOffset: Int, members: [JSONNode.Member]) {
        self.path = path
        self.offset = offset
        self.lastOffset = lastOffset
        var byKey: [String: JSONNode.Member] = [:]
        for member in members where byKey[member.key] == nil {
            byKey[member.key] = member
        }
        self.members = byKey
        self.memberOrder = members
    }

    /// The value under `key`, or nil when the key is absent.
    subscript(key: String) -> JSONNode? {
        members[key]?.value
    }

    /// The json path of `key` in this object.
    func path(_ key: String) -> String {
        ConfigObject.join(path, key)
    }

    static func join(_ path: String, _ key: String) -> String {
        path.isEmpty ? key : path + "." + key
    }

    static func element(_ path: String, _ index: Int) -> String {
        "\(path)[\(index)]"
    }
}
