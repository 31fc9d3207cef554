// swift-tools-version:6.0
import PackageDescription

// Release builds drop dynamic exclusivity checks on the hot path; debug builds keep them
// so tests still catch overlapping accesses.
let releaseSettings: [SwiftSetting] = [
    .unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))
]

let package = Package(
    name: "Portico",
    targets: [
        .target(name: "CLinux"),
        .target(name: "Reactor", dependencies: ["CLinux"], swiftSettings: releaseSettings),
        .testTarget(name: "ReactorTests", dependencies: ["Reactor"]),
    ],
    swiftLanguageModes: [.v6]
)
