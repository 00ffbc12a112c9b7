import ArgumentParser
import Datasets
import Foundation

/// `seafold data folds ROOT`: writes the folds of an image folder as a folds file (CSV
/// `path,fold`, 0-based folds, ImageFolder order), exactly scikit-learn's
/// `StratifiedKFold(folds, shuffle=True, random_state=seed)` on the sorted file list — or
/// repetition R of `RepeatedStratifiedKFold`, or `shuffle=False` — so another pipeline can use
/// the same split (`PredefinedSplit(test_fold)`), and `folds: FILE` can read it back.
struct DataFoldsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "folds",
        abstract: "Write the stratified folds of an image folder as a CSV folds file (path,fold).",
        discussion: """
        The folds equal scikit-learn's StratifiedKFold(n_splits=FOLDS, shuffle=True, random_state=SEED) \
        applied to the labels in ImageFolder order (class folders sorted, files sorted within each). \
        --repeat R gives repetition R (0-based) of RepeatedStratifiedKFold(n_splits=FOLDS, n_repeats>R, random_state=SEED), \
        the folds of repeat R of an experiment with `repeats:`.
        """
    )

    @Argument(help: "ImageFolder root (ROOT/<class>/<image>); a `seafold data synth` output folder also works.")
    var root: String
    @Option(help: "Number of stratified folds.")
    var folds: Int = 3
    @Option(help: "scikit-learn random_state (0 ... 4294967295).")
    var seed: UInt64 = 0
    @Flag(help: "scikit-learn shuffle=False: fold ids in file order.")
    var noShuffle = false
    @Option(name: .customLong("repeat"), help: "Repetition of repeated cross-validation, 0-based.")
    var repetition: Int = 0
    @Option(help: "Output CSV file (default: standard output).")
    var out: String?

    func run() throws {
        var url = URL(fileURLWithPath: root)
        if FileManager.default.fileExists(atPath: url.appendingPathComponent("manifest.json").path),
           FileManager.default.fileExists(atPath: url.appendingPathComponent("images").path) {
            url = url.appendingPathComponent("images")
        }
        guard repetition >= 0 else { throw ValidationError("--repeat must be 0 or more, found \(repetition)") }
        guard repetition == 0 || !noShuffle else { throw ValidationError("--repeat needs shuffled folds; without shuffling every repetition is the same") }
        let folder = try ImageFolder(root: url, checkDuplicates: false)
        let (assignment, warnings) = try StratifiedKFold(nSplits: folds, shuffle: !noShuffle, seed: seed)
            .testFolds(labels: folder.labels, repetition: repetition)
        for w in folder.warnings + warnings { FileHandle.standardError.write(Data("warning: \(w)\n".utf8)) }
        let csv = FoldsFile.render(paths: folder.samples.map(\.relativePath), folds: assignment)
        if let out {
            let dest = URL(fileURLWithPath: out)
            do { try Data(csv.utf8).write(to: dest, options: .atomic) } catch {
                throw ValidationError("cannot write --out \(dest.path): \(error.localizedDescription)")
            }
            FileHandle.standardError.write(Data("wrote \(folder.count) rows (\(folds) folds) to \(dest.path)\n".utf8))
        } else {
            print(csv, terminator: "")
        }
    }
}
