import ArgumentParser
import Cluster
import Foundation

/// `seafold keys generate --out DIR --name NAME`: a CURVE key pair for a coordinator or worker
/// (NAME.key secret, mode 0600; NAME.pub public — copy it into the coordinator's allow-list).
struct KeysCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "keys", abstract: "Manage CURVE keys for coordinator and workers.",
                                                    subcommands: [Generate.self])

    struct Generate: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Write DIR/NAME.key (secret, 0600) and DIR/NAME.pub.")
        @Option(help: "Directory for the key files.") var out: String
        @Option(help: "Base name of the key files.") var name: String

        func run() throws {
            let dir = URL(fileURLWithPath: out)
            let pair = try KeyFiles.generate(directory: dir, name: name)
            print("wrote \(dir.appendingPathComponent(name + ".key").path) (secret, keep private)")
            print("wrote \(dir.appendingPathComponent(name + ".pub").path): \(pair.publicKey)")
        }
    }
}
