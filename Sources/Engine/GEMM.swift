import COpenBLAS

/// Row-major single-precision GEMM through OpenBLAS: C = alpha·op(A)·op(B) + beta·C.
/// `M×K` is op(A), `K×N` is op(B); lda/ldb/ldc are row strides of the stored matrices.
@inline(__always)
func sgemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float = 1,
           a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
           beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
    if m == 0 || n == 0 { return }
    cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
}

/// Runs `body(i)` for i in 0..<count on up to two threads (the machine has two cores);
/// used for memory-bound loops (im2col, permutes, Adam) that BLAS does not cover.
import Dispatch
@inline(__always)
func parallelFor(_ count: Int, minPerThread: Int = 1, _ body: (Int) -> Void) {
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
