// swift-tools-version: 6.1
import PackageDescription
import Foundation

// seafold: the distributed, explainable SAS fine-tuning experiment (Walker et al.).
// Module boundaries (docs/ARCHITECTURE.md): `Cluster` never imports ML code; the domain
// modules (Engine, Datasets, Classifiers, WeightStats, Explain) never import Pipeline/Cluster.
let v5: [SwiftSetting] = [.swiftLanguageMode(.v5)]
/// `SEAFOLD_FUZZ=1` (scripts/fuzz.sh only) adds the libFuzzer targets in Fuzz/ and keeps
/// overflow and bounds checks on (no -Ounchecked), so the fuzzer sees every trap.
let fuzzing = ProcessInfo.processInfo.environment["SEAFOLD_FUZZ"] != nil
let fast: [SwiftSetting] = fuzzing ? v5 : v5 + [.unsafeFlags(["-Ounchecked"], .when(configuration: .release))]
/// Orchestration modules (planning, the cluster, the report, the CLI) spend their time in the
/// optimised domain modules, SQLite, ZeroMQ and BLAS, not in their own code; the optimiser's
/// generic specialisation of them was most of a fresh release build. They compile at -Onone;
/// numeric loops belong in the optimised domain modules.
let orchestration: [SwiftSetting] = v5 + [.unsafeFlags(["-Onone"], .when(configuration: .release))]
/// Swift 6 language mode (data races are compile errors) with the same flags as the v5 lists
/// above: each v5 list starts with `v5`, so dropping it keeps its flags in one place.
let v6: [SwiftSetting] = [.swiftLanguageMode(.v6)]
let fast6: [SwiftSetting] = v6 + fast.dropFirst(v5.count)
let orchestration6: [SwiftSetting] = v6 + orchestration.dropFirst(v5.count)

let package = Package(
    name: "seafold",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "seafold", targets: ["seafold"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.0.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
    ],
    targets: [
        .systemLibrary(name: "CZeroMQ", path: "Sources/CZeroMQ"),
        .systemLibrary(name: "COpenBLAS", path: "Sources/COpenBLAS"),
        .systemLibrary(name: "CPNG", path: "Sources/CPNG"),
        // librsvg + cairo: the report's SVG figures rasterised to PNG with real fonts.
        .systemLibrary(name: "CRSVG", path: "Sources/CRSVG", pkgConfig: "librsvg-2.0"),
        .systemLibrary(name: "CTIFF", path: "Sources/CTIFF", pkgConfig: "libtiff-4", providers: [.apt(["libtiff-dev"])]),
        .systemLibrary(name: "CJPEG", path: "Sources/CJPEG", pkgConfig: "libjpeg", providers: [.apt(["libjpeg62-turbo-dev"])]),
        // TIFF/JPEG decoding in C: libjpeg's fatal errors longjmp, which Swift cannot catch.
        .target(name: "CImageCodecs", dependencies: ["CTIFF", "CJPEG"]),
        // SHA-256 from the system's OpenSSL libcrypto (libssl-dev).
        .systemLibrary(name: "COpenSSL", path: "Sources/COpenSSL", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        // The linear SVM is libsvm itself (libsvm-dev), the library scikit-learn's SVC wraps.
        .systemLibrary(name: "CLibSVM", path: "Sources/CLibSVM", providers: [.apt(["libsvm-dev"])]),

        // The scheduling policy as a pure state machine (no dependencies, no I/O): the
        // coordinator, the local executor and the schedule simulation all drive it.
        .target(name: "Scheduling", swiftSettings: [.swiftLanguageMode(.v6)]),
        // prctl(PR_SET_PDEATHSIG) for `seafold run`'s worker processes (variadic in C).
        .target(name: "CProcess"),
        // Not -Ounchecked: the npy and safetensors parsers here read untrusted bytes, and a
        // wrapped multiplication or an unchecked index must trap, not read out of bounds.
        .target(name: "SeafoldCore", swiftSettings: v6),
        // SHA-256 (task ids, dataset and artifact hashes): no ML, so Cluster may use it too.
        .target(name: "Hashing", dependencies: ["COpenSSL"], swiftSettings: v6),
        // Element-wise kernels compiled for AVX-512/AVX2/SSE2 and picked at run time; no FMA
        // contraction, so every variant rounds exactly like the scalar definition.
        .target(name: "CKernels", cSettings: [.unsafeFlags(["-O3", "-ffp-contract=off", "-fno-math-errno"])]),
        .target(name: "Engine", dependencies: ["SeafoldCore", "COpenBLAS", "CKernels"], swiftSettings: fast),
        // Not -Ounchecked either: it decodes untrusted image files (PNG through libpng, .npy)
        // and scales their pixels; a bounds bug the fuzzer missed must trap, not corrupt memory.
        .target(name: "Datasets", dependencies: ["SeafoldCore", "CPNG", "CImageCodecs"], swiftSettings: v5),
        .target(name: "Classifiers", dependencies: ["SeafoldCore", "Engine", "COpenBLAS", "CLibSVM"], swiftSettings: fast6),
        .target(name: "WeightStats", dependencies: ["SeafoldCore"], swiftSettings: fast6),
        .target(name: "Explain", dependencies: ["SeafoldCore"], swiftSettings: fast),
        .target(name: "Pipeline", dependencies: [
            "SeafoldCore", "Engine", "Datasets", "Classifiers", "WeightStats", "Explain", "Scheduling", "Hashing",
            .product(name: "Yams", package: "Yams"),
            .product(name: "Logging", package: "swift-log"),
        ], swiftSettings: orchestration),
        .target(name: "Cluster", dependencies: [
            "CZeroMQ", "Scheduling", "Hashing",
            .product(name: "GRDB", package: "GRDB.swift"),
            .product(name: "Logging", package: "swift-log"),
        ], swiftSettings: orchestration6),
        // Terminal output (status line, stderr notes, JSON log lines) shared by the CLI and Bench.
        .target(name: "Terminal", dependencies: [.product(name: "Logging", package: "swift-log")], swiftSettings: orchestration),
        .target(name: "Report", dependencies: ["SeafoldCore", "Pipeline", "CRSVG"], swiftSettings: orchestration6),
        // Every benchmark, the run projection, the schedule simulation and the cluster simulator,
        // with their `seafold bench …` commands; only the CLI (and its tests) import it.
        .target(name: "Bench", dependencies: [
            "SeafoldCore", "Engine", "Datasets", "Classifiers", "Explain", "Pipeline", "Cluster", "Scheduling", "Terminal",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], swiftSettings: v5),
        .executableTarget(name: "seafold", dependencies: [
            "SeafoldCore", "Engine", "Datasets", "Classifiers", "WeightStats", "Explain",
            "Pipeline", "Cluster", "Report", "CProcess", "Bench", "Terminal",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
        ], swiftSettings: orchestration),

        // Test helpers shared by the test targets (temporary directories, child processes,
        // polling, repository files); no product depends on it.
        .target(name: "TestSupport", path: "Tests/TestSupport", swiftSettings: v5),
        .testTarget(name: "TestSupportTests", dependencies: ["TestSupport"], swiftSettings: v5),
        .testTarget(name: "SchedulerTests", dependencies: ["Scheduling"], swiftSettings: v5),
        .testTarget(name: "SeafoldCoreTests", dependencies: ["SeafoldCore"], swiftSettings: v5),
        .testTarget(name: "HashingTests", dependencies: ["Hashing", "TestSupport"], swiftSettings: v5),
        .testTarget(name: "EngineTests", dependencies: ["Engine", "SeafoldCore", "CKernels", "TestSupport"], swiftSettings: v5),
        .testTarget(name: "DatasetsTests", dependencies: ["Datasets", "SeafoldCore", "TestSupport"], exclude: ["Fixtures"], swiftSettings: v5),
        .testTarget(name: "ClassifiersTests", dependencies: ["Classifiers", "SeafoldCore"], swiftSettings: v5),
        .testTarget(name: "WeightStatsTests", dependencies: ["WeightStats"], swiftSettings: v5),
        .testTarget(name: "ExplainTests", dependencies: ["Explain", "SeafoldCore"], swiftSettings: v5),
        .testTarget(name: "PipelineTests", dependencies: ["Pipeline", "SeafoldCore", "Engine", "Datasets", "Classifiers", "TestSupport"], swiftSettings: v5),
        .testTarget(name: "ClusterTests", dependencies: ["Cluster", "TestSupport"], swiftSettings: v5),
        .testTarget(name: "BenchTests", dependencies: ["Bench", "Pipeline", "SeafoldCore", "TestSupport"], swiftSettings: v5),
        .testTarget(name: "ReportTests", dependencies: ["Report", "Pipeline", "TestSupport"], swiftSettings: v5),
        .testTarget(name: "EndToEndTests", dependencies: ["SeafoldCore", "CZeroMQ", "TestSupport"], swiftSettings: v5),
        .testTarget(name: "DeploymentTests", dependencies: [.product(name: "Yams", package: "Yams"), "TestSupport"], swiftSettings: v5),
    ]
)

if fuzzing {
    let fuzzTargets: [(name: String, dir: String, deps: [Target.Dependency])] = [
        ("fuzz-npy", "npy", ["SeafoldCore"]),
        ("fuzz-safetensors", "safetensors", ["Engine", "SeafoldCore"]),
        ("fuzz-wire", "wire", ["Cluster"]),
        ("fuzz-config", "config", ["Pipeline", "SeafoldCore"]),
        ("fuzz-png", "png", ["Datasets", "SeafoldCore"]),
        ("fuzz-tiff", "tiff", ["Datasets", "SeafoldCore"]),
        ("fuzz-jpeg", "jpeg", ["Datasets", "SeafoldCore"]),
    ]
    for t in fuzzTargets {
        package.targets.append(.executableTarget(name: t.name, dependencies: t.deps, path: "Fuzz/\(t.dir)",
                                                 swiftSettings: v5 + [.unsafeFlags(["-parse-as-library"])]))
    }
}
