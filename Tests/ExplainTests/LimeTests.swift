import XCTest
import SeafoldCore
@testable import Explain

final class LimeTests: XCTestCase {
    func testKernelAndCosineDistanceByHand() {
        // n = 4, k = 1: cos sim = 1/(1·2) = 0.5 → d = 0.5; kernel √exp(−0.25/0.0625) = e^(−2).
        XCTAssertEqual(LimeImageExplainer.cosineDistance(onCount: 1, of: 4), 0.5, accuracy: 1e-15)
        XCTAssertEqual(LimeImageExplainer.kernel(0.5, width: 0.25), exp(-2.0), accuracy: 1e-15)
        XCTAssertEqual(LimeImageExplainer.cosineDistance(onCount: 4, of: 4), 0)
        XCTAssertEqual(LimeImageExplainer.kernel(0, width: 0.25), 1)
        XCTAssertEqual(LimeImageExplainer.cosineDistance(onCount: 0, of: 4), 1)
        // Against the cosine distance of explicit vectors.
        let row: [Double] = [1, 0, 1, 1, 0, 1, 0]
        let dot = row.reduce(0, +)
        let direct = 1 - dot / (sqrt(row.map { $0 * $0 }.reduce(0, +)) * sqrt(Double(row.count)))
        XCTAssertEqual(LimeImageExplainer.cosineDistance(onCount: 4, of: 7), direct, accuracy: 1e-14)
    }

    /// Ridge with intercept by the augmented normal equations [1 X]ᵀW[1 X] + diag(0, α, …)
    /// (a different formulation from the module's centring), solved by the test's own solver.
    func augmentedRidge(_ x: [[Double]], _ y: [Double], _ w: [Double], alpha: Double) -> (b0: Double, beta: [Double]) {
        let p = x[0].count + 1
        var a = [[Double]](repeating: [Double](repeating: 0, count: p), count: p)
        var b = [Double](repeating: 0, count: p)
        for i in 0..<x.count {
            let z = [1.0] + x[i]
            for r in 0..<p {
                b[r] += w[i] * z[r] * y[i]
                for c in 0..<p { a[r][c] += w[i] * z[r] * z[c] }
            }
        }
        for r in 1..<p { a[r][r] += alpha }
        let s = testSolve(a, b)
        return (s[0], Array(s[1...]))
    }

    func testWeightedRidgeMatchesAugmentedNormalEquations() throws {
        let x: [[Double]] = [[1, 1, 1], [0, 1, 1], [1, 0, 1], [1, 1, 0], [0, 0, 1]]
        let y: [Double] = [0.9, 0.35, 0.8, 0.6, 0.2]
        let w: [Double] = [1, 0.7, 0.5, 0.4, 0.1]
        let fit = try WeightedRidge.fit(x: x.flatMap { $0 }, rows: 5, cols: 3, y: y, weights: w, alpha: 1)
        let ref = augmentedRidge(x, y, w, alpha: 1)
        XCTAssertEqual(fit.intercept, ref.b0, accuracy: 1e-12)
        for j in 0..<3 { XCTAssertEqual(fit.coefficients[j], ref.beta[j], accuracy: 1e-12) }
        // Weighted R² by its definition.
        let pred = x.map { r in ref.b0 + zip(r, ref.beta).map { $0 * $1 }.reduce(0, +) }
        let ybar = zip(w, y).map { $0 * $1 }.reduce(0, +) / w.reduce(0, +)
        let ssRes = (0..<5).map { w[$0] * pow(y[$0] - pred[$0], 2) }.reduce(0, +)
        let ssTot = (0..<5).map { w[$0] * pow(y[$0] - ybar, 2) }.reduce(0, +)
        let r2 = WeightedRidge.score(fit, x: x.flatMap { $0 }, rows: 5, cols: 3, y: y, weights: w)
        XCTAssertEqual(r2, 1 - ssRes / ssTot, accuracy: 1e-12)
    }

    func testSingularUnregularisedFitStillPredicts() throws {
        // Two identical columns, alpha 0: infinitely many solutions; fitted values are unique.
        let x: [Double] = [1, 1, 0, 0, 1, 1, 0, 0]
        let y: [Double] = [2, 0, 2, 0]
        let fit = try WeightedRidge.fit(x: x, rows: 4, cols: 2, y: y, weights: [1, 1, 1, 1], alpha: 0)
        XCTAssertEqual(fit.predict([1, 1]), 2, accuracy: 1e-9)
        XCTAssertEqual(fit.predict([0, 0]), 0, accuracy: 1e-9)
    }

    /// End to end on a tiny problem: 3 grid segments, 5 samples. The test rebuilds the
    /// distances, kernel weights and ridge solution from the sample matrix and the
    /// classifier's outputs, independently of the module's regression code.
    func testExplanationMatchesHandComputedRidgeOnTinyProblem() throws {
        let img = TestImages.quadrants(size: 6, noise: 0.3, seed: 11)
        let seg = try Segmentation.grid(width: 6, height: 6, rows: 1, cols: 3)
        // Class-1 probability: mean of the image's red channel; class 0 the rest.
        let model: ImageClassifier = { batch in
            batch.map { im in
                var s: Float = 0
                for i in 0..<im.pixelCount { s += im.pixels[3 * i] }
                let p = s / Float(im.pixelCount)
                return [1 - p, p]
            }
        }
        var lime = LimeImageExplainer(numSamples: 5, batchSize: 2, seed: 9)
        lime.featureSelection = .none
        let e = try lime.explain(img, classifier: model, labels: [1], segmentation: seg)
        let data = lime.sampleMatrix(segments: 3)
        XCTAssertEqual(Array(data[0..<3]), [1, 1, 1])
        let means = seg.meanColours(of: img)
        var x: [[Double]] = [], y: [Double] = [], w: [Double] = []
        for row in 0..<5 {
            let on = (0..<3).map { data[row * 3 + $0] }
            x.append(on.map { Double($0) })
            var red: Float = 0
            for i in 0..<36 {
                let s = Int(seg.labels[i])
                red += on[s] == 1 ? img.pixels[3 * i] : means[s].0
            }
            y.append(Double(red / 36))
            let k = Double(on.map { Int($0) }.reduce(0, +))
            let cos = k == 0 ? 0 : k / (sqrt(k) * sqrt(3))
            let d = 1 - cos
            w.append(sqrt(exp(-d * d / (0.25 * 0.25))))
        }
        let ref = augmentedRidge(x, y, w, alpha: 1)
        let le = try e.explanation(for: 1)
        XCTAssertEqual(le.intercept, ref.b0, accuracy: 1e-6)
        for sw in le.weights { XCTAssertEqual(sw.weight, ref.beta[sw.segment], accuracy: 1e-6) }
        XCTAssertEqual(le.localPrediction, ref.b0 + ref.beta.reduce(0, +), accuracy: 1e-6)
        // Sorted by |weight| descending.
        XCTAssertEqual(le.weights.map { abs($0.weight) }, le.weights.map { abs($0.weight) }.sorted(by: >))
    }

    /// A model that looks only at the top-left quadrant: class 0's probability rises with the
    /// fraction of that quadrant left unperturbed. LIME's top segment must lie there.
    static func regionModel(original: RGBImage, size: Int) -> ImageClassifier {
        { batch in
            batch.map { im in
                var same = 0, total = 0
                for r in 0..<size / 2 { for c in 0..<size / 2 {
                    let i = r * size + c
                    total += 1
                    if abs(im.pixels[3 * i] - original.pixels[3 * i]) < 1e-6 &&
                        abs(im.pixels[3 * i + 1] - original.pixels[3 * i + 1]) < 1e-6 { same += 1 }
                } }
                let p0 = 0.1 + 0.8 * Float(same) / Float(total)
                return [p0, 1 - p0]
            }
        }
    }

    func assertTopSegmentInRegion(_ e: Explanation, size: Int, file: StaticString = #file, line: UInt = #line) throws {
        XCTAssertEqual(e.topLabels.first, 0, file: file, line: line)
        let top = try XCTUnwrap(try e.explanation(for: 0).weights.first, file: file, line: line)
        XCTAssertGreaterThan(top.weight, 0, file: file, line: line)
        var inside = 0, all = 0
        for r in 0..<size { for c in 0..<size where Int(e.segmentation.labels[r * size + c]) == top.segment {
            all += 1
            if TestImages.quadrant(r, c, size: size) == 0 { inside += 1 }
        } }
        XCTAssertGreaterThan(Double(inside) / Double(all), 0.9, "top segment \(top.segment) mostly outside the region", file: file, line: line)
    }

    func testTopSegmentInRegionWithQuickshift() throws {
        let size = 48
        let img = TestImages.quadrants(size: size, noise: 0.15, seed: 4)
        let lime = LimeImageExplainer(numSamples: 300, seed: 1)
        let e = try lime.explain(img, classifier: LimeTests.regionModel(original: img, size: size))
        XCTAssertGreaterThan(e.segmentation.count, 1)
        try assertTopSegmentInRegion(e, size: size)
    }

    func testTopSegmentInRegionWithSLIC() throws {
        let size = 48
        let img = TestImages.quadrants(size: size, noise: 0.15, seed: 4)
        let lime = LimeImageExplainer(numSamples: 300, segmentation: .slic(SLIC(nSegments: 16)), seed: 1)
        let e = try lime.explain(img, classifier: LimeTests.regionModel(original: img, size: size))
        XCTAssertGreaterThan(e.segmentation.count, 4)
        try assertTopSegmentInRegion(e, size: size)
    }

    func testDeterministicBySeedAndIndependentOfBatchSize() throws {
        let size = 32
        let img = TestImages.quadrants(size: size, noise: 0.15, seed: 2)
        let model = LimeTests.regionModel(original: img, size: size)
        let seg = try SLIC(nSegments: 12).segment(img)
        let a = try LimeImageExplainer(numSamples: 120, batchSize: 7, seed: 3).explain(img, classifier: model, segmentation: seg)
        let b = try LimeImageExplainer(numSamples: 120, batchSize: 7, seed: 3).explain(img, classifier: model, segmentation: seg)
        let c = try LimeImageExplainer(numSamples: 120, batchSize: 1000, seed: 3).explain(img, classifier: model, segmentation: seg)
        XCTAssertEqual(a, b)
        XCTAssertEqual(a.labels, c.labels)
        let d = try LimeImageExplainer(numSamples: 120, batchSize: 7, seed: 4).explain(img, classifier: model, segmentation: seg)
        XCTAssertNotEqual(a.labels, d.labels)
        // Codable round trip.
        let back = try JSONDecoder().decode(Explanation.self, from: JSONEncoder().encode(a))
        XCTAssertEqual(back, a)
    }

    func testForwardSelectionPicksTheInformativeSegment() throws {
        let size = 32
        let img = TestImages.quadrants(size: size, noise: 0.15, seed: 2)
        let seg = try Segmentation.grid(width: size, height: size, rows: 2, cols: 2)
        let lime = LimeImageExplainer(numSamples: 200, numFeatures: 1, seed: 5)
        let e = try lime.explain(img, classifier: LimeTests.regionModel(original: img, size: size), labels: [0], segmentation: seg)
        let le = try e.explanation(for: 0)
        XCTAssertEqual(le.weights.map { $0.segment }, [0])
        // y = 0.1 + 0.8·x₀ exactly, so the alpha-1 ridge on x₀ alone gives β = 0.8·S/(S+1) with
        // S = Σw(x₀ − x̄₀)², and R² = 1 − (1/(S+1))² (residual (0.8 − β)(x₀ − x̄₀)).
        let data = lime.sampleMatrix(segments: 4)
        var sw = 0.0, swx = 0.0
        var xs: [Double] = [], ws: [Double] = []
        for row in 0..<200 {
            let k = (0..<4).filter { data[row * 4 + $0] == 1 }.count
            let d = 1 - sqrt(Double(k) / 4)
            let w = sqrt(exp(-d * d / 0.0625))
            xs.append(Double(data[row * 4])); ws.append(w)
            sw += w; swx += w * Double(data[row * 4])
        }
        let mean = swx / sw
        let s = zip(xs, ws).map { $1 * ($0 - mean) * ($0 - mean) }.reduce(0, +)
        XCTAssertEqual(le.weights[0].weight, 0.8 * s / (s + 1), accuracy: 1e-6)
        XCTAssertEqual(le.score, 1 - pow(1 / (s + 1), 2), accuracy: 1e-6)
    }

    func testMaskFollowsGetImageAndMask() throws {
        let seg = try Segmentation.grid(width: 4, height: 1, rows: 1, cols: 4)
        let w: [(Int, Double)] = [(2, 0.5), (0, -0.4), (3, 0.2), (1, -0.01)]
        let le = Explanation.LabelExplanation(label: 0, weights: w.map { Explanation.SegmentWeight(segment: $0.0, weight: $0.1) },
                                              intercept: 0, localPrediction: 0, score: 0)
        let e = Explanation(segmentation: seg, topLabels: [0], labels: [le], originalPrediction: [1], numSamples: 0,
                            kernelWidth: 0.25, seed: 0, hideColor: nil, warnings: [])
        XCTAssertEqual(try e.mask(label: 0), [0, 0, 1, 1])
        XCTAssertEqual(try e.mask(label: 0, numFeatures: 1), [0, 0, 1, 0])
        XCTAssertEqual(try e.mask(label: 0, positiveOnly: false, numFeatures: 2), [-1, 0, 1, 0])
        XCTAssertEqual(try e.mask(label: 0, positiveOnly: false, negativeOnly: true, minWeight: 0.1), [1, 0, 0, 0])
        XCTAssertThrowsError(try e.mask(label: 3))
    }

    func testBadClassifierOutputThrows() throws {
        let img = TestImages.quadrants(size: 8)
        let seg = try Segmentation.grid(width: 8, height: 8, rows: 2, cols: 2)
        let bad: ImageClassifier = { batch in Array(batch.dropFirst().map { _ in [0.5, 0.5] }) }
        XCTAssertThrowsError(try LimeImageExplainer(numSamples: 10).explain(img, classifier: bad, segmentation: seg))
    }
}
