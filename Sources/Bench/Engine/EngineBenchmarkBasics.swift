import Engine
import Foundation
import SeafoldCore

/// The clock, the median and the same-run sgemm speed every engine benchmark reports against.
extension EngineBenchmark {
    /// The median (mean of the two middle values for an even count; NaN when empty).
    public static func median(_ xs: [Double]) -> Double {
        let s = xs.sorted(); if s.isEmpty { return .nan }
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }

    static func now() -> Double {
        var ts = timespec(); clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }

    /// Median GFLOP/s of C[M×N] = op(A)·op(B) through the engine's `sgemm` (row-major).
    public static func sgemmGFLOPs(m: Int, k: Int, n: Int, transA: Bool = false, transB: Bool = false, repeats: Int) -> Double {
        let a = AlignedFloats(count: m * k), b = AlignedFloats(count: k * n), c = AlignedFloats(count: m * n)
        var rng = SeededGenerator(seed: 1)
        for i in 0..<(m * k) { a.ptr[i] = rng.uniform(-1, 1) }
        for i in 0..<(k * n) { b.ptr[i] = rng.uniform(-1, 1) }
        var times: [Double] = []
        for r in 0...max(1, repeats) {
            let t0 = now()
            sgemm(transA: transA, transB: transB, m: m, n: n, k: k, a: a.ptr, lda: transA ? m : k,
                  b: b.ptr, ldb: transB ? k : n, beta: 0, c: c.ptr, ldc: n)
            if r > 0 { times.append(now() - t0) }   // first call warms up
        }
        return 2.0 * Double(m) * Double(k) * Double(n) / median(times) / 1e9
    }

    /// Peak resident set size (VmHWM) of this process, bytes; 0 if unknown.
    public static func peakRSSBytes() -> Int {
        guard let s = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
        for line in s.split(separator: "\n") where line.hasPrefix("VmHWM:") {
            let parts = line.split(separator: " ").filter { !$0.isEmpty }
            if parts.count >= 2, let kb = Int(parts[1]) { return kb * 1024 }
        }
        return 0
    }
}
