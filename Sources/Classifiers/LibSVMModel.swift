import CLibSVM
import SeafoldCore

/// A trained libsvm C-SVC model with a linear kernel and the training rows it points into
/// (libsvm's model keeps pointers to the support vectors' nodes, so they live as long as it).
/// Rows are stored sparse (zero features left out): libsvm's dot product skips absent indices,
/// and leaving out terms that are exactly zero does not change a floating-point sum.
// Safe: immutable after init, and libsvm's prediction only reads the model.
final class LibSVMModel: @unchecked Sendable {
    private let nodes: UnsafeMutablePointer<svm_node>
    // Defaults let every early `throw` below run `deinit`, which frees what exists.
    private var model: UnsafeMutablePointer<svm_model>?
    private(set) var nSV: [Int] = []

    /// libsvm's progress text goes to stdout unless replaced; seafold keeps stdout for results.
    private static let silence: Void = svm_set_print_string_function { _ in }

    /// Trains on `rows` of `X` (in that order) with labels `y` (class indices as Double).
    init(_ X: FeatureMatrix, rows: [Int], y: [Double], C: Double, eps: Double, cacheMB: Double, classes: Int) throws {
        _ = LibSVMModel.silence
        var count = rows.count
        for r in rows { for v in X.row(r) where v != 0 { count += 1 } }
        nodes = .allocate(capacity: count)
        var starts: [UnsafeMutablePointer<svm_node>?] = []
        starts.reserveCapacity(rows.count)
        var n = 0
        for r in rows {
            starts.append(nodes + n)
            for (c, v) in X.row(r).enumerated() where v != 0 {
                nodes[n] = svm_node(index: Int32(c + 1), value: Double(v)); n += 1
            }
            nodes[n] = svm_node(index: -1, value: 0); n += 1
        }
        var param = svm_parameter()
        param.svm_type = Int32(C_SVC)
        param.kernel_type = Int32(LINEAR)
        param.degree = 3
        param.cache_size = cacheMB
        param.eps = eps
        param.C = C
        param.nu = 0.5
        param.p = 0.1
        param.shrinking = 1
        param.probability = 0
        var labels = y
        var problemError: String?
        let trained: UnsafeMutablePointer<svm_model>? = labels.withUnsafeMutableBufferPointer { yp in
            starts.withUnsafeMutableBufferPointer { xp in
                var problem = svm_problem(l: Int32(rows.count), y: yp.baseAddress, x: xp.baseAddress)
                if let err = svm_check_parameter(&problem, &param) { problemError = String(cString: err); return nil }
                return svm_train(&problem, &param)
            }
        }
        if let problemError {
            throw SeafoldError.config(key: "heads.svm", reason: "libsvm rejects the parameters: \(problemError)")
        }
        model = trained
        guard let m = trained, Int(m.pointee.nr_class) == classes else {
            throw SeafoldError.message("LinearSVC: libsvm did not train a \(classes)-class model (C \(C), tolerance \(eps))")
        }
        nSV = (0..<classes).map { Int(m.pointee.nSV[$0]) }
        for k in 0..<classes where Int(m.pointee.label[k]) != k {
            throw SeafoldError.message("LinearSVC: libsvm ordered the classes differently from the sorted labels")
        }
    }

    deinit {
        if model != nil { svm_free_and_destroy_model(&model) }
        nodes.deallocate()
    }

    func coefficient(row: Int, sv: Int) -> Double { model!.pointee.sv_coef[row]![sv] }
    /// Position in the training rows given to `init` of support vector `sv`.
    func trainingIndex(sv: Int) -> Int { Int(model!.pointee.sv_indices[sv]) - 1 }
    func rho(_ p: Int) -> Double { model!.pointee.rho[p] }

    /// Decision values in pair order and the index of the class that wins libsvm's vote.
    func predict(_ x: ArraySlice<Float>, pairs: Int) -> (decisions: [Double], winner: Int) {
        var q: [svm_node] = []
        q.reserveCapacity(x.count + 1)
        for (c, v) in x.enumerated() where v != 0 { q.append(svm_node(index: Int32(c + 1), value: Double(v))) }
        q.append(svm_node(index: -1, value: 0))
        var dec = [Double](repeating: 0, count: pairs)
        let label = svm_predict_values(model, q, &dec)
        return (dec, Int(label))
    }
}
