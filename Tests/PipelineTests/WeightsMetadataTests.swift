import Datasets
import Engine
import Foundation
import SeafoldCore
import TestSupport
import XCTest
@testable import Pipeline

final class WeightsMetadataTests: XCTestCase {
    func testRoundTripThroughASafetensorsFile() throws {
        var network = ModelConfig()
        network.inputSize = 64; network.widthMultiplier = 0.25; network.hiddenWidth = 512
        let names = ["rocky", "sand ripple", "odd, \"quoted\" name"]
        let meta = WeightsMetadata.taskMetadata(.finetune, shard: ShardKey(dataset: "d", variant: .balanced, fold: 1),
                                                classes: names, network: network, floatScaling: "none")
        XCTAssertEqual(meta["task"], "finetune")
        XCTAssertEqual(meta["seafold.input_size"], "64")
        XCTAssertEqual(meta["seafold.class_names"], #"["rocky","sand ripple","odd, \"quoted\" name"]"#)
        let url = try makeTemporaryDirectory("wm").appendingPathComponent("w.safetensors")
        try Safetensors.write(["x": Tensor(shape: [1], data: [1])], metadata: meta, to: url)
        let back = try WeightsMetadata(metadata: try Safetensors.read(from: url).metadata, source: url.path)
        XCTAssertEqual(back, WeightsMetadata(inputSize: 64, classNames: names, widthMultiplier: 0.25, hiddenWidth: 512,
                                             mean: Preprocessor.imagenetMean, std: Preprocessor.imagenetStd, floatScaling: "none"))
        // The same call sizes the file exactly (DiskBudget uses it).
        XCTAssertEqual(DiskBudget.fileBytes(url), Int64(Safetensors.fileSize(shapes: ["x": [1]], metadata: meta)))
        // Deterministic bytes: the same model writes the same header.
        XCTAssertEqual(meta, WeightsMetadata.taskMetadata(.finetune, shard: ShardKey(dataset: "d", variant: .balanced, fold: 1),
                                                          classes: names, network: network, floatScaling: "none"))
    }

    func testNoMetadataIsEmptyAndMalformedValuesNameTheKey() throws {
        XCTAssertTrue(try WeightsMetadata(metadata: [:], source: "w").isEmpty)
        XCTAssertTrue(try WeightsMetadata(metadata: ["task": "finetune", "classes": "a,b"], source: "w").isEmpty)
        let bad: [(String, String)] = [
            ("seafold.input_size", "big"), ("seafold.input_size", "-3"),
            ("seafold.class_names", "a,b"), ("seafold.class_names", "[1, 2]"),
            ("seafold.width_multiplier", "0"), ("seafold.hidden_width", "x"),
            ("seafold.preprocessing", "[]"), ("seafold.preprocessing", #"{"mean": [1, 2]}"#),
            ("seafold.preprocessing", #"{"std": [1, 0, 1]}"#), ("seafold.preprocessing", #"{"float_scaling": "log"}"#),
        ]
        for (k, v) in bad {
            XCTAssertThrowsError(try WeightsMetadata(metadata: [k: v], source: "/x/w.safetensors")) { e in
                XCTAssertTrue("\(e)".contains("/x/w.safetensors") && "\(e)".contains(k), "\(e)")
            }
        }
    }
}
