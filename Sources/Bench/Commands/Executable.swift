import Foundation

extension CommandLine {
    /// This executable, for the child processes some benchmarks start (`seafold run`, workers,
    /// the other malloc setting).
    static var executablePath: String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }
}
