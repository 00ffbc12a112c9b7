import XCTest
@testable import Pipeline
import SeafoldCore

final class ConfigLoaderTests: XCTestCase {
    let minimal = """
    datasets:
      - {name: ms, synthetic: multi-site}
    """

    func testDefaultsAreThePapers() throws {
        let c = try ConfigLoader.parse(minimal)
        XCTAssertEqual(c.folds, 3)
        XCTAssertEqual(c.training.lr, 1e-4)
        XCTAssertEqual(c.training.batchSize, 6)
        XCTAssertEqual(c.training.epochs, 100)
        XCTAssertEqual(c.training.headEpochs, 30)
        XCTAssertEqual(c.knn.k, 3)
        XCTAssertEqual(c.svm.c, 1)
        XCTAssertEqual(c.model.inputSize, 224)
        XCTAssertEqual(c.model.hiddenWidth, 4096)
        XCTAssertEqual(c.heads, ["svm", "knn", "fc"])
        XCTAssertEqual(c.lime.numSamples, 1000)
        XCTAssertEqual(c.lime.kernelWidth, 0.25)
        XCTAssertEqual(c.datasets[0].variants, [.balanced, .imbalanced])
        // Reference semantics: Base trains with dropout active (model.train()), LIME explains the
        // top prediction (lime_image), KL's ε on probabilities (seafold's convention, unchanged).
        XCTAssertTrue(c.training.baseDropout)
        XCTAssertEqual(c.lime.explain, "top_prediction")
        XCTAssertEqual(c.divergence.epsilonOn, "probabilities")
        XCTAssertEqual(c.divergence.permutations, 999)
    }

    func testWeightAndLimeOptions() throws {
        let c = try ConfigLoader.parse(minimal + """

        training: {base_dropout: false}
        divergence: {epsilon_on: counts, permutations: 0, include_biases: false}
        lime: {explain: true_class}
        """)
        XCTAssertFalse(c.training.baseDropout)
        XCTAssertEqual(c.divergence.epsilonOn, "counts")
        XCTAssertEqual(c.divergence.permutations, 0)
        XCTAssertFalse(c.divergence.includeBiases)
        XCTAssertEqual(c.lime.explain, "true_class")
    }

    func testUnknownKeyNamesKeyAndLine() {
        let text = """
        seed: 1
        training:
          lr: 0.001
          epochz: 5
        datasets:
          - {name: ms, synthetic: multi-site}
        """
        XCTAssertThrowsError(try ConfigLoader.parse(text)) { e in
            let s = "\(e)"
            XCTAssertTrue(s.contains("training.epochz"), s)
            XCTAssertTrue(s.contains("line 4"), s)
        }
    }

    func testWrongTypeNamesKeyAndLine() {
        let text = """
        seed: 1
        folds: three
        datasets:
          - {name: ms, synthetic: multi-site}
        """
        XCTAssertThrowsError(try ConfigLoader.parse(text)) { e in
            let s = "\(e)"
            XCTAssertTrue(s.contains("'folds'"), s)
            XCTAssertTrue(s.contains("line 2"), s)
            XCTAssertTrue(s.contains("integer"), s)
        }
    }

    func testBadVariantAndMissingDatasets() {
        XCTAssertThrowsError(try ConfigLoader.parse("datasets:\n  - {name: a, synthetic: multi-site, variants: [weighted]}\n")) { e in
            XCTAssertTrue("\(e)".contains("weighted"))
        }
        XCTAssertThrowsError(try ConfigLoader.parse("seed: 3\n")) { e in XCTAssertTrue("\(e)".contains("datasets")) }
        XCTAssertThrowsError(try ConfigLoader.parse("datasets:\n  - {name: a}\n")) { e in XCTAssertTrue("\(e)".contains("path")) }
    }

    func testPresetKeyWithOverrides() throws {
        let c = try ConfigLoader.parse("preset: demo\nseed: 5\ntraining: {epochs: 2}\n")
        let demo = try ConfigLoader.parse(Presets.demo)
        XCTAssertEqual(c.seed, 5)
        XCTAssertEqual(c.training.epochs, 2)
        XCTAssertEqual(c.training.lr, demo.training.lr)
        XCTAssertEqual(c.datasets, demo.datasets)
        XCTAssertEqual(c.model, demo.model)
        XCTAssertThrowsError(try ConfigLoader.parse("preset: huge\n")) { e in XCTAssertTrue("\(e)".contains("preset")) }
    }

    func testPresetsParse() throws {
        for name in Presets.names {
            let c = try ConfigLoader.parse(Presets.yaml(name)!)
            XCTAssertEqual(c.name, name)
            XCTAssertFalse(c.datasets.isEmpty)
        }
        let paper = try ConfigLoader.parse(Presets.paper)
        XCTAssertEqual(paper.model.inputSize, 224)
        XCTAssertEqual(paper.model.widthMultiplier, 1)
        XCTAssertEqual(paper.training.epochs, 100)
        XCTAssertEqual(paper.training.batchSize, 6)
        XCTAssertEqual(paper.training.lr, 1e-4)
    }
}
