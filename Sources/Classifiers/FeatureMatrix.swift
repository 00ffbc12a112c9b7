import SeafoldCore

/// A dense matrix of feature vectors, one sample per row, stored row-major as Float32
/// (the layout of the network's `[N, 4096]` penultimate features and of `.npy` files).
public struct FeatureMatrix: Equatable, Sendable {
    /// Number of samples.
    public let rows: Int
    /// Feature dimension.
    public let cols: Int
    /// `rows * cols` values, row-major: element (r, c) is `values[r * cols + c]`.
    public let values: [Float]

    /// Validates that `values.count == rows * cols` and that no value is NaN or infinite.
    public init(rows: Int, cols: Int, values: [Float]) throws {
        guard rows >= 0, cols >= 0 else {
            throw SeafoldError.mismatch(what: "FeatureMatrix shape", expected: "non-negative rows and cols",
                                        found: "\(rows)x\(cols)")
        }
        guard values.count == rows * cols else {
            throw SeafoldError.mismatch(what: "FeatureMatrix values", expected: "\(rows)x\(cols) = \(rows * cols) values",
                                        found: "\(values.count) values")
        }
        if let bad = values.firstIndex(where: { !$0.isFinite }) {
            throw SeafoldError.badInput(path: "FeatureMatrix",
                                        reason: "value at row \(bad / max(cols, 1)), column \(bad % max(cols, 1)) is \(values[bad]); features must be finite")
        }
        self.rows = rows; self.cols = cols; self.values = values
    }

    /// Builds a matrix from equal-length rows (convenient in tests).
    public init(_ rowArrays: [[Float]]) throws {
        let c = rowArrays.first?.count ?? 0
        if let bad = rowArrays.firstIndex(where: { $0.count != c }) {
            throw SeafoldError.mismatch(what: "FeatureMatrix row \(bad)", expected: "\(c) columns",
                                        found: "\(rowArrays[bad].count) columns")
        }
        try self.init(rows: rowArrays.count, cols: c, values: rowArrays.flatMap { $0 })
    }

    /// Reads a 2-D float32 `.npy` array (e.g. features written by the fine-tune task).
    public init(npy: NpyArray) throws {
        guard npy.shape.count == 2 else {
            throw SeafoldError.mismatch(what: "feature array shape", expected: "2-D [samples, features]",
                                        found: "\(npy.shape)")
        }
        try self.init(rows: npy.shape[0], cols: npy.shape[1], values: npy.floats())
    }

    /// Row `i` (0-based). Requires `0 <= i < rows`.
    public func row(_ i: Int) -> ArraySlice<Float> {
        values[(i * cols)..<((i + 1) * cols)]
    }

    /// The sub-matrix made of the given rows, in the given order (throws on an index out of range).
    public func selecting(rows indices: [Int]) throws -> FeatureMatrix {
        var out: [Float] = []
        out.reserveCapacity(indices.count * cols)
        for i in indices {
            guard i >= 0 && i < rows else {
                throw SeafoldError.mismatch(what: "FeatureMatrix row index", expected: "0..<\(rows)", found: "\(i)")
            }
            out.append(contentsOf: row(i))
        }
        return try FeatureMatrix(rows: indices.count, cols: cols, values: out)
    }
}

/// Shared validation of (features, labels) pairs given to a head's `fit`.
enum LabelCheck {
    static func validate(_ X: FeatureMatrix, _ labels: [Int], who: String) throws {
        guard labels.count == X.rows else {
            throw SeafoldError.mismatch(what: "\(who) labels", expected: "one label per feature row (\(X.rows))",
                                        found: "\(labels.count) labels")
        }
        if let bad = labels.first(where: { $0 < 0 }) {
            throw SeafoldError.badInput(path: who, reason: "label \(bad) is negative; labels are class indices 0..<numClasses")
        }
        guard X.rows > 0 else {
            throw SeafoldError.badInput(path: who, reason: "no training samples")
        }
    }
}
