import ArgumentParser
import Foundation
import Pipeline

/// Where an experiment's config comes from: `--config FILE` or `--preset NAME` (default demo).
struct ExperimentSource: ParsableArguments {
    @Option(name: .long, help: "Experiment config (YAML). Overrides --preset.")
    var config: String?

    @Option(name: .long, help: "Built-in experiment: smoke, demo or paper.")
    var preset: String = "demo"

    @Option(name: .customLong("run-dir"), help: "Run directory (default: runs/<experiment name>).")
    var runDir: String?

    /// The YAML text and the directory relative paths in it resolve against.
    func yaml() throws -> (text: String, base: URL) {
        if let config {
            let url = URL(fileURLWithPath: config)
            guard let text = try? String(contentsOf: url, encoding: .utf8) else {
                throw ValidationError("cannot read config file '\(config)'")
            }
            return (text, url.deletingLastPathComponent())
        }
        guard let text = Presets.yaml(preset) else {
            throw ValidationError("unknown preset '\(preset)' (choose one of \(Presets.names.joined(separator: ", ")))")
        }
        return (text, URL(fileURLWithPath: FileManager.default.currentDirectoryPath))
    }

    /// The run directory: given, or runs/<name> from the config.
    func runDirectory(for text: String, base: URL) throws -> URL {
        if let runDir { return URL(fileURLWithPath: runDir).standardizedFileURL }
        let cfg = try ConfigLoader.parse(text, baseDirectory: base)
        return URL(fileURLWithPath: "runs/\(cfg.name)").standardizedFileURL
    }
}
