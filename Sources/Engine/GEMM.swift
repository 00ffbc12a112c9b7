import COpenBLAS
import Dispatch

/// Row-major single-precision GEMM through OpenBLAS: C = alpha·op(A)·op(B) + beta·C.
/// `M×K` is op(A), `K×N` is op(B); lda/ldb/ldc are row strides of the stored matrices.
///
/// Results must not depend on how many threads a worker has (the same task gives the same
/// bytes on any worker). OpenBLAS's own threading changes its partition, and with it the
/// edge-tile kernels and rounding, when the thread count changes; so OpenBLAS always runs
/// single-threaded and large products are cut here into blocks whose boundaries depend only
/// on the shape. The blocks run concurrently on `ParallelConfig.threads` threads.
@inline(__always)
public func sgemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float = 1,
           a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
           beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
    if m == 0 || n == 0 { return }
    let plan = GEMMPlan(m: m, n: n, k: k)
    if plan.blocks == 1 {
        blasSgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
        return
    }
    let run: (Int) -> Void = { i in
        let lo = i * plan.step, hi = min(lo + plan.step, plan.splitRows ? m : n)
        if lo >= hi { return }
        if plan.splitRows {
            blasSgemm(transA: transA, transB: transB, m: hi - lo, n: n, k: k, alpha: alpha,
                      a: transA ? a + lo : a + lo * lda, lda: lda, b: b, ldb: ldb, beta: beta, c: c + lo * ldc, ldc: ldc)
        } else {
            blasSgemm(transA: transA, transB: transB, m: m, n: hi - lo, k: k, alpha: alpha,
                      a: a, lda: lda, b: transB ? b + lo * ldb : b + lo, ldb: ldb, beta: beta, c: c + lo, ldc: ldc)
        }
    }
    if ParallelConfig.threads > 1 {
        DispatchQueue.concurrentPerform(iterations: plan.blocks, execute: run)
    } else {
        for i in 0..<plan.blocks { run(i) }
    }
}

/// How a product is cut into independent blocks: a function of the shape only.
struct GEMMPlan {
    let blocks: Int
    let step: Int
    let splitRows: Bool

    /// Products below this many multiply-adds run as one call (threading would not pay).
    static let minimumWork = 1 << 21
    /// Blocks per product when it is cut (enough to balance 2–8 threads).
    static let maximumBlocks = 8

    init(m: Int, n: Int, k: Int) {
        let work = m * n * k
        // Cut the longer of the two output dimensions, in multiples of 16 (kernel-friendly).
        splitRows = m > n
        let dim = splitRows ? m : n
        guard work >= GEMMPlan.minimumWork, dim >= 32 else { blocks = 1; step = dim; return }
        let want = min(GEMMPlan.maximumBlocks, max(2, work / GEMMPlan.minimumWork), dim / 16)
        step = ((dim + want - 1) / want + 15) / 16 * 16
        blocks = (dim + step - 1) / step
    }
}

@inline(__always)
func blasSgemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
               a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
               beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
    cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
}

/// Runs `body(i)` for i in 0..<count on up to two threads (the machine has two cores);
/// used for memory-bound loops (im2col, permutes, Adam) that BLAS does not cover.
@inline(__always)
public func parallelFor(_ count: Int, minPerThread: Int = 1, _ body: (Int) -> Void) {
    if count >= 2 * minPerThread && ParallelConfig.threads > 1 {
        DispatchQueue.concurrentPerform(iterations: count, execute: body)
    } else {
        for i in 0..<count { body(i) }
    }
}

/// Number of threads for the Engine's own loops (set together with BLAS threads).
enum ParallelConfig {
    nonisolated(unsafe) static var threads = 2
}
