/// Softmax cross-entropy (PyTorch `nn.CrossEntropyLoss()`, reduction 'mean'): the mean over
/// the batch of −log softmax(logits)[label], computed with the max subtracted for stability.
/// Writes d loss / d logits = (softmax − onehot)/N into `grad` and returns the loss and the
/// number of samples whose arg-max (first on ties) equals the label.
enum SoftmaxCrossEntropy {
    static func compute(logits: UnsafePointer<Float>, batch: Int, classes: Int, labels: [Int],
                        grad: UnsafeMutablePointer<Float>?) -> (loss: Float, correct: Int) {
        var total: Double = 0
        var correct = 0
        let invN = 1 / Float(batch)
        for n in 0..<batch {
            let z = logits + n * classes
            var mx = z[0], am = 0
            for j in 1..<max(classes, 1) where z[j] > mx { mx = z[j]; am = j }
            var sum: Double = 0
            for j in 0..<classes { sum += Double(expf(z[j] - mx)) }
            let label = labels[n]
            let logZ = Double(mx) + log(sum)
            total += logZ - Double(z[label])
            if am == label { correct += 1 }
            if let grad {
                let g = grad + n * classes
                for j in 0..<classes {
                    let pj = Float(exp(Double(z[j]) - logZ))
                    g[j] = (pj - (j == label ? 1 : 0)) * invN
                }
            }
        }
        return (Float(total / Double(batch)), correct)
    }

    /// Row-wise softmax in place.
    static func softmax(_ z: UnsafeMutablePointer<Float>, batch: Int, classes: Int) {
        for n in 0..<batch {
            let r = z + n * classes
            var mx = -Float.infinity
            for j in 0..<classes { mx = max(mx, r[j]) }
            var sum: Double = 0
            for j in 0..<classes { let e = expf(r[j] - mx); r[j] = e; sum += Double(e) }
            let inv = Float(1 / sum)
            for j in 0..<classes { r[j] *= inv }
        }
    }
}

#if canImport(Glibc)
import Glibc
#else
import Foundation
#endif
