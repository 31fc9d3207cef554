/// How many responses of each status class a route sent.
public struct ResponseClassCounts: Sendable, Equatable {
    private var counts: (UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0)

    /// Creates all-zero counts.
    public init() {}

    /// The count for one class.
    public subscript(statusClass: StatusClass) -> UInt64 {
        get {
            switch statusClass {
            case .informational: counts.0
            case .successful: counts.1
            case .redirection: counts.2
            case .clientError: counts.3
            case .serverError: counts.4
            }
        }
        set {
            switch statusClass {
            case .informational: counts.0 = newValue
            case .successful: counts.1 = newValue
            case .redirection: counts.2 = newValue
            case .clientError: counts.3 = newValue
            case .serverError: counts.4 = newValue
            }
        }
    }

    /// The sum over every class.
    public var total: UInt64 {
        counts.0 &+ counts.1 &+ counts.2 &+ counts.3 &+ counts.4
    }

    /// Counts one response with `status`; a status outside 100...599 is not counted.
    public mutating func record(status: Int) {
        if let statusClass = StatusClass(status: status) {
            self[statusClass] &+= 1
        }
    }

    /// Adds `other`'s counts.
    public mutating func merge(_ other: ResponseClassCounts) {
        for statusClass in StatusClass.allCases {
            self[statusClass] &+= other[statusClass]
        }
    }

    /// Whether both hold the same counts.
    public static func == (lhs: ResponseClassCounts, rhs: ResponseClassCounts) -> Bool {
        StatusClass.allCases.allSatisfy { lhs[$0] == rhs[$0] }
    }
}
