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

    /// The config parsed (the only parse on the way from the command line to the workers: the
    /// typed value goes on to `ExperimentSetup.prepare`, the planner and the task specs), with its
    /// text (frozen as RUN/experiment.yaml) and the directory relative paths resolved against.
    struct Loaded {
        var text: String
        var base: URL
        var config: ExperimentConfig
    }

    func load() throws -> Loaded {
        let (text, base) = try yaml()
        return Loaded(text: text, base: base, config: try ConfigLoader.parse(text, baseDirectory: base))
    }

    /// The run directory: given, or runs/<name> from the config.
    func runDirectory(for config: ExperimentConfig) -> URL {
        if let runDir { return URL(fileURLWithPath: runDir).standardizedFileURL }
        return URL(fileURLWithPath: "runs/\(config.name)").standardizedFileURL
    }
}
