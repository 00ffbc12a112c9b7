import Foundation

/// Files of this repository (fixtures, docs, deployment files) and the executables built with
/// the tests, located from this source file's path and the test bundle's.
public enum RepositoryFiles {
    /// The repository root: three levels above this file (Tests/TestSupport/<file>).
    public static let root: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// `relative` (e.g. "Tests/Fixtures/pytorch_alexnet.safetensors") under the root.
    public static func url(_ relative: String) -> URL { root.appendingPathComponent(relative) }

    /// The executable `name` that `swift build` put next to the test bundle (inside it or one
    /// level up, depending on the platform's bundle layout, or beside the test runner), or nil
    /// when it was not built. Never a stale binary from another build configuration.
    public static func builtExecutable(_ name: String) -> URL? {
        let bundle = Bundle.main.bundleURL
        let candidates = [
            bundle.appendingPathComponent(name),
            bundle.deletingLastPathComponent().appendingPathComponent(name),
            URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent(name),
        ] + Bundle.allBundles.map { $0.bundleURL.deletingLastPathComponent().appendingPathComponent(name) }
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) }
    }
}
