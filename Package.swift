// swift-tools-version:6.2
import PackageDescription

// Our own targets compile with every warning as an error; dependencies are left alone.
let strictSettings: [SwiftSetting] = [
    .treatAllWarnings(as: .error),
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

// Library targets also let their callers specialise generic code across module boundaries: without
// it every pool borrow and every JSON byte goes through runtime generic-metadata lookups
// (about 3x slower; see Benchmarks/HISTORY.md).
let librarySettings = strictSettings + [.unsafeFlags(["-cross-module-optimization"], .when(configuration: .release))]

let package = Package(
    name: "redis-gateway",
    products: [
        .executable(name: "redis-gateway", targets: ["redis-gateway"]),
        .executable(name: "gateway-load", targets: ["gateway-load"]),
        .library(name: "GatewayService", targets: ["GatewayService"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
    ],
    targets: [
        // 1. C edge: system libraries found through pkg-config, plus shims for what Swift cannot call.
        // No pkgConfig: hiredis' .pc adds -D_FILE_OFFSET_BITS=64, which SwiftPM refuses (a warning on
        // every build); the shim includes <hiredis/hiredis.h> and the module map links hiredis.
        .systemLibrary(
            name: "CHiredis",
            providers: [.apt(["libhiredis-dev"])]
        ),
        // TLS to Redis: GnuTLS, the library libmicrohttpd already links for HTTPS (one TLS library).
        .systemLibrary(
            name: "CGnuTLS",
            pkgConfig: "gnutls",
            providers: [.apt(["libgnutls28-dev"])]
        ),
        // glibc's malloc statistics and trim, for giving memory back after a burst (the executable only).
        .systemLibrary(name: "CMalloc"),
        .systemLibrary(
            name: "CMicroHTTPD",
            pkgConfig: "libmicrohttpd",
            providers: [.apt(["libmicrohttpd-dev"])]
        ),

        // Small pieces every layer may use (percent-decoding, hex digits, SplitMix, durations,
        // loopback ports): no Redis, no HTTP, no dependencies.
        .target(name: "CoreUtilities", swiftSettings: librarySettings),

        // 2. Pool: generic, blocking, knows nothing of Redis or HTTP.
        .target(name: "ConnectionPool", dependencies: ["CoreUtilities"], swiftSettings: librarySettings),

        // 3. Redis client over hiredis: knows nothing of HTTP.
        .target(
            name: "RedisClient",
            dependencies: ["CHiredis", "CGnuTLS", "ConnectionPool", "CoreUtilities"],
            swiftSettings: librarySettings
        ),

        // 4. HTTP layer over libmicrohttpd: knows nothing of Redis.
        .target(
            name: "HTTPServer",
            dependencies: ["CMicroHTTPD", "CoreUtilities"],
            swiftSettings: librarySettings
        ),

        // The session-cache example's origin database (SQLite through GRDB): no Redis, no HTTP.
        .target(
            name: "UserDatabase",
            dependencies: [
                .product(name: "GRDB", package: "GRDB.swift"),
                // Passwords: PBKDF2 from swift-crypto's extras (already a dependency, for Crypto).
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
            ],
            swiftSettings: librarySettings
        ),

        // 5. Service: wires the pool, the Redis client and the HTTP layer.
        .target(
            name: "GatewayService",
            dependencies: [
                "CoreUtilities",
                "ConnectionPool",
                "RedisClient",
                "HTTPServer",
                "UserDatabase",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: librarySettings
        ),

        // 6. Executables.
        .executableTarget(
            name: "redis-gateway",
            dependencies: [
                "GatewayService",
                "CMalloc",
                "CGnuTLS",  // the --health-check probe speaks HTTPS when the gateway does
                "HTTPServer",
                "CoreUtilities",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        // The load-test client: speaks only HTTP to the gateway (it re-declares the wire format).
        .target(
            name: "LoadTesting",
            dependencies: ["CoreUtilities", .product(name: "Histogram", package: "hdrhistogram-swift")],
            swiftSettings: librarySettings
        ),
        .executableTarget(
            name: "gateway-load",
            dependencies: [
                "LoadTesting", "CoreUtilities",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "PoolBorrowBenchmark",
            dependencies: ["ConnectionPool"],
            path: "Benchmarks/PoolBorrowBenchmark",
            swiftSettings: strictSettings
        ),

        // Tests mirror the sources; TestSupport starts a real redis-server.
        .target(
            name: "TestSupport", dependencies: ["CoreUtilities", "LoadTesting"], path: "Tests/TestSupport", swiftSettings: strictSettings),
        .testTarget(
            name: "ConnectionPoolTests",
            dependencies: ["ConnectionPool", "CoreUtilities", "TestSupport"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "RedisClientTests",
            dependencies: ["RedisClient", "ConnectionPool", "TestSupport"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "HTTPServerTests",
            dependencies: ["HTTPServer", "CoreUtilities", "TestSupport"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "UserDatabaseTests",
            dependencies: ["UserDatabase", .product(name: "GRDB", package: "GRDB.swift")],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "LoadTestingTests",
            dependencies: [
                "LoadTesting", "GatewayService", "RedisClient", "ConnectionPool", "HTTPServer", "CoreUtilities", "TestSupport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "GatewayServiceTests",
            dependencies: [
                "GatewayService", "RedisClient", "ConnectionPool", "HTTPServer", "CoreUtilities", "TestSupport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strictSettings
        ),
        // Black-box fault tests: the built redis-gateway binary and real redis-server processes.
        .testTarget(
            name: "FaultTests",
            dependencies: ["LoadTesting", "CoreUtilities", "TestSupport"],
            swiftSettings: strictSettings
        ),
    ]
)
