import Classifiers
import Foundation
import SeafoldCore

/// `heads(dataset, variant, fold, model, head)`: KNN (k = 3), linear SVM (C = 1) or a fresh FC
/// layer (Adam, batch 6, 30 epochs, the variant's sampler) trained on a model's penultimate
/// features; scikit-learn semantics (docs/REFERENCE_SEMANTICS.md).
enum HeadsTask {
    static func run(_ spec: HeadsSpec, io: TaskIO) throws -> TaskOutput {
        let shard = spec.shard, model = spec.model, head = spec.head, classes = spec.classes
        let xTrain = try TaskSupport.readFeatures(.featuresTrain, io: io)
        let xTest = try TaskSupport.readFeatures(.featuresTest, io: io)
        let yTrain = try TaskSupport.readLabels(.labelsTrain, io: io)
        let yTest = try TaskSupport.readLabels(.labelsTest, io: io)
        guard xTrain.rows == yTrain.count, xTest.rows == yTest.count, xTrain.cols == xTest.cols else {
            throw SeafoldError.mismatch(what: "features and labels of \(shard)", expected: "\(xTrain.rows) train and \(xTest.rows) test labels",
                                        found: "\(yTrain.count) and \(yTest.count)")
        }
        io.progress(0, "\(head.rawValue) on \(model.rawValue) \(shard)")
        var predictions: [Int]
        var curve: TrainingCurve?
        switch spec.settings {
        case let .knn(c):
            var knn = KNearestNeighbors(k: c.k)
            try knn.fit(xTrain, labels: yTrain)
            predictions = try knn.predict(xTest)
        case let .svm(c):
            var svm = LinearSVC(C: c.c, tolerance: c.tolerance)
            try svm.fit(xTrain, labels: yTrain)
            predictions = try svm.predict(xTest)
        case .output:
            throw SeafoldError.config(key: "task.head", reason: "the output layer is reported by its network task, not by a heads task")
        case let .fc(t):
            var cfg = LinearHead.Config()
            cfg.learningRate = Float(t.lr)
            cfg.batchSize = t.batchSize
            cfg.epochs = t.headEpochs
            let fc = try LinearHead(inputDim: xTrain.cols, numClasses: classes.count,
                                    seed: SeededGenerator.derivedSeed(spec.seed, "fc-head/\(model.rawValue)/\(shard)"), config: cfg)
            var sampler = try TaskSupport.sampler(variant: shard.variant, labels: yTrain)
            var rng = SeededGenerator.derive(seed: spec.seed, "fc-sampler/\(model.rawValue)/\(shard)")
            let epochs = try fc.train(xTrain, labels: yTrain, epochOrder: { e in
                io.progress(Double(e) / Double(t.headEpochs), "fc on \(model.rawValue) \(shard) epoch \(e + 1)/\(t.headEpochs)")
                return sampler.epoch(rng: &rng)
            })
            predictions = try fc.predict(xTest)
            curve = TrainingCurve(shard: shard, model: model, head: .fc, epochs: TaskSupport.epochs(epochs))
        }
        let result = HeadsTaskResult(head: try TaskSupport.headResult(shard: shard, model: model, head: head, classes: classes, labels: yTest, predictions: predictions),
                                     curve: curve)
        return TaskOutput(result: try TaskRunner.encode(result), artifacts: [:])
    }
}
