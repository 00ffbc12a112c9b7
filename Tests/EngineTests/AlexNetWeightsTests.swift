import Foundation
import XCTest
@testable import Engine
import SeafoldCore

/// The one AlexNet weights loader (`AlexNet(weightsFile:inputSize:)`, `loadWeights(from:…)`):
/// shapes read back into the config, exact weights, the kept output layer, and errors that name
/// the file and the key.
final class AlexNetWeightsTests: XCTestCase {
    static let config = AlexNetConfig(numClasses: 5, widthMultiplier: 0.125, inputSize: 63, hiddenWidth: 24)

    private func file(_ tensors: [String: Tensor]) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("seafold-weights-\(UUID().uuidString).safetensors")
        try Safetensors.write(tensors, to: url)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }

    private func bits(_ d: [String: Tensor]) -> [String: [UInt32]] { d.mapValues { $0.data.map(\.bitPattern) } }

    func testNetworkFromFileHasTheFilesShapeAndWeights() throws {
        let source = try AlexNet(config: Self.config, seed: 3)
        let url = try file(source.stateDict())
        let net = try AlexNet(weightsFile: url, inputSize: 71, options: EngineOptions(convolution: .im2col))
        XCTAssertEqual(net.config, AlexNetConfig(numClasses: 5, widthMultiplier: 0.125, inputSize: 71, hiddenWidth: 24))
        XCTAssertEqual(net.options.convolution, .im2col)
        XCTAssertEqual(bits(net.stateDict()), bits(source.stateDict()))
    }

    func testKeepingOwnOutputLayer() throws {
        let pretrained = try AlexNet(config: Self.config, seed: 3), fresh = try AlexNet(config: Self.config, seed: 4)
        let url = try file(pretrained.stateDict())
        let before = fresh.stateDict()
        try fresh.loadWeights(from: url, keepingOwn: "classifier.6.", describedAs: "pretrained weights")
        let after = fresh.stateDict(), loaded = pretrained.stateDict()
        for k in fresh.parameterKeys {
            let want = k.hasPrefix("classifier.6.") ? before[k]! : loaded[k]!
            XCTAssertEqual(after[k]!.data.map(\.bitPattern), want.data.map(\.bitPattern), k)
        }
        XCTAssertNotEqual(before["features.0.weight"]!.data, loaded["features.0.weight"]!.data, "the two seeds must differ")
        // The file's own output layer may have another class count: it is not read.
        var other = pretrained.stateDict()
        other["classifier.6.weight"] = Tensor(shape: [9, 24], data: [Float](repeating: 1, count: 9 * 24))
        other["classifier.6.bias"] = Tensor(shape: [9], data: [Float](repeating: 1, count: 9))
        XCTAssertNoThrow(try fresh.loadWeights(from: try file(other), keepingOwn: "classifier.6."))
    }

    func testErrorsNameTheFileAndKey() throws {
        let net = try AlexNet(config: Self.config, seed: 3)
        var missing = net.stateDict()
        missing["features.3.weight"] = nil
        let url = try file(missing)
        let before = bits(net.stateDict())
        XCTAssertThrowsError(try net.loadWeights(from: url, keepingOwn: "classifier.6.", describedAs: "pretrained weights")) { e in
            let s = "\(e)"
            XCTAssertTrue(s.contains(url.path) && s.contains("pretrained weights lack 'features.3.weight'"), s)
        }
        XCTAssertThrowsError(try net.loadWeights(from: url)) { e in
            XCTAssertTrue("\(e)".contains(url.path) && "\(e)".contains("features.3.weight"), "\(e)")
        }
        XCTAssertEqual(bits(net.stateDict()), before, "nothing changes when the file does not fit")
        var wrongShape = net.stateDict()
        wrongShape["classifier.1.bias"] = Tensor(shape: [7], data: [Float](repeating: 0, count: 7))
        let bad = try file(wrongShape)
        XCTAssertThrowsError(try net.loadWeights(from: bad, describedAs: "fine-tuned weights")) { e in
            XCTAssertTrue("\(e)".contains(bad.path) && "\(e)".contains("fine-tuned weights do not fit") && "\(e)".contains("classifier.1.bias"), "\(e)")
        }
        XCTAssertThrowsError(try AlexNet(weightsFile: try file(["x": Tensor(shape: [1], data: [0])]), inputSize: 63)) { e in
            XCTAssertTrue("\(e)".contains("not AlexNet weights"), "\(e)")
        }
    }
}
