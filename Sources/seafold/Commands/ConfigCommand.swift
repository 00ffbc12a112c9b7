import ArgumentParser
import Foundation
import Pipeline
import SeafoldCore
import Terminal

/// `seafold config`: facts about the experiment config format.
struct ConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "config", abstract: "The experiment config format.",
                                                    subcommands: [ConfigReferenceCommand.self])
}

/// `seafold config reference`: every config key as Markdown (docs/CONFIG.md is this output).
struct ConfigReferenceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reference",
        abstract: "Print the config reference (key, type, default, meaning) as Markdown.",
        discussion: "Regenerate the docs with: seafold config reference > docs/CONFIG.md")

    @Option(help: "Instead of printing, compare with this file and fail if it differs (e.g. docs/CONFIG.md).")
    var check: String?

    func run() throws {
        let text = ConfigReference.markdown()
        guard let check else { print(text, terminator: ""); return }
        let url = URL(fileURLWithPath: check)
        let old = (try? String(contentsOf: url, encoding: .utf8)) ?? ""
        guard old == text else {
            throw SeafoldError.badInput(path: url.path, reason: "differs from the generated config reference; regenerate it with `seafold config reference > \(check)`")
        }
        Console.info("\(url.path) is up to date")
    }
}
