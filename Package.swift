// swift-tools-version:6.0
import PackageDescription

// Release builds drop dynamic exclusivity checks on the hot path; debug builds keep them
// so tests still catch overlapping accesses.
let releaseSettings: [SwiftSetting] = [
    .unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))
]

let package = Package(
    name: "Portico",
    products: [
        .executable(name: "portico", targets: ["portico"])
    ],
    targets: [
        .target(name: "CLinux"),
        .target(name: "Reactor", dependencies: ["CLinux"], swiftSettings: releaseSettings),
        .target(name: "HTTP1", swiftSettings: releaseSettings),
        .target(name: "RESP", swiftSettings: releaseSettings),
        .target(name: "Gateway", dependencies: ["HTTP1", "RESP"], swiftSettings: releaseSettings),
        .target(
            name: "GatewayRuntime",
            dependencies: ["Reactor", "HTTP1", "Gateway", "RESP"],
            swiftSettings: releaseSettings
        ),
        .executableTarget(
            name: "portico", dependencies: ["GatewayRuntime", "Gateway", "Reactor"],
            swiftSettings: releaseSettings),
        .executableTarget(name: "codec-bench", dependencies: ["HTTP1"], path: "Sources/codec-bench"),
        .target(name: "PorticoTesting", dependencies: ["Gateway", "HTTP1"]),
        .testTarget(name: "ReactorTests", dependencies: ["Reactor"]),
        .testTarget(name: "HTTP1Tests", dependencies: ["HTTP1"]),
        .testTarget(name: "RESPTests", dependencies: ["RESP"]),
        .testTarget(name: "GatewayTests", dependencies: ["Gateway", "HTTP1", "RESP", "PorticoTesting"]),
        .testTarget(
            name: "GatewayRuntimeTests",
            dependencies: ["GatewayRuntime", "Gateway", "HTTP1", "Reactor", "PorticoTesting"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
