import Foundation
import TestSupport
import XCTest
@testable import Pipeline

final class ConfigReferenceTests: XCTestCase {
    /// docs/CONFIG.md can't go stale: every key the loader reads has a row, every row is a key
    /// the loader reads, and the committed file is the generated text.
    func testEveryLoaderKeyHasARowAndNoRowIsStale() throws {
        let read = try ConfigReference.keysTheLoaderReads()
        let documented = Set(ConfigReference.entries.map(\.key))
        XCTAssertEqual(read.subtracting(documented).sorted(), [], "keys the loader accepts but ConfigReference.entries lacks")
        XCTAssertEqual(documented.subtracting(read).sorted(), [], "rows for keys the loader does not read")
        XCTAssertEqual(ConfigReference.entries.count, documented.count, "duplicate rows")
    }

    func testDocsConfigMdIsTheGeneratedText() throws {
        let doc = RepositoryFiles.url("docs/CONFIG.md")
        let text = try String(contentsOf: doc, encoding: .utf8)
        XCTAssertEqual(text, ConfigReference.markdown(), "docs/CONFIG.md is stale: run `seafold config reference > docs/CONFIG.md`")
    }

    func testDefaultsComeFromTheTypes() throws {
        let rows = Dictionary(uniqueKeysWithValues: ConfigReference.entries.map { ($0.key, $0.defaultValue) })
        let d = ExperimentConfig()
        XCTAssertEqual(rows["model.input_size"], String(d.model.inputSize))
        XCTAssertEqual(rows["training.lr"], String(d.training.lr))
        XCTAssertEqual(rows["training.epochs"], String(d.training.epochs))
        XCTAssertEqual(rows["heads"], "[svm, knn, fc]")
        // Each documented default, written back as YAML, parses to the same config as omitting it.
        let md = ConfigReference.markdown()
        XCTAssertTrue(md.contains("| `model.input_size` | integer ≥ 63 | `224` |"), md)
        let explicit = try ConfigLoader.parse("""
        model: {input_size: \(rows["model.input_size"]!), width_multiplier: \(rows["model.width_multiplier"]!), hidden_width: \(rows["model.hidden_width"]!), dropout: \(rows["model.dropout"]!)}
        training: {lr: \(rows["training.lr"]!), epochs: \(rows["training.epochs"]!), batch_size: \(rows["training.batch_size"]!), head_epochs: \(rows["training.head_epochs"]!), weight_decay: \(rows["training.weight_decay"]!), momentum: \(rows["training.momentum"]!)}
        divergence: {bins: \(rows["divergence.bins"]!), epsilon: \(rows["divergence.epsilon"]!)}
        lime: {num_samples: \(rows["lime.num_samples"]!), kernel_width: \(rows["lime.kernel_width"]!), ratio: \(rows["lime.ratio"]!)}
        datasets: [{name: a, synthetic: multi-site}]
        """)
        let implicit = try ConfigLoader.parse("datasets: [{name: a, synthetic: multi-site}]")
        XCTAssertEqual(explicit, implicit)
    }
}
