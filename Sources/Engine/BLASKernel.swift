import COpenBLAS
import Foundation
import SeafoldCore

/// Makes sure OpenBLAS runs on a kernel that suits this CPU and computes correctly.
///
/// Debian's OpenBLAS 0.3.21 does not recognise recent Intel CPUs and falls back to its SSE3
/// "Prescott" kernel (several times slower; docs/REFERENCE_SEMANTICS.md, "Platform facts").
/// `OPENBLAS_CORETYPE` is read when the library loads, before `main`, so `ensureFastKernel()`
/// re-executes the process (/proc/self/exe, same argv) with the
/// variable set: SkylakeX when the CPU has AVX-512F, Haswell with AVX2. After loading it checks
/// the kernel with a numerical self-test against a double-precision reference GEMM; on failure
/// it re-executes once more with the next safer kernel (SkylakeX → Haswell → Prescott) and says so.
/// User override: `SEAFOLD_BLAS_CORETYPE` (wins), else an `OPENBLAS_CORETYPE` set before start.
public enum BLASKernel {
    /// Environment marker listing the kernels this process tree already tried (prevents loops).
    static let markerVariable = "SEAFOLD_BLAS_TRIED"
    /// Kernels in order of preference / safety.
    static let ladder = ["SkylakeX", "Haswell", "Prescott"]
    /// Cores OpenBLAS picks when it does not know the CPU (generic or pre-AVX2).
    static let slowCores: Set<String> = ["prescott", "core2", "penryn", "dunnington", "nehalem", "katmai",
                                          "coppermine", "northwood", "atom", "banias", "generic", "unknown",
                                          "sandybridge", "barcelona", "opteron", "athlon"]

    /// The kernel OpenBLAS loaded (e.g. "SkylakeX", "Prescott").
    public static var corename: String {
        guard let p = openblas_get_corename() else { return "unknown" }
        return String(cString: p)
    }

    /// Threads for the Engine: GEMM blocks and its own loops. OpenBLAS itself stays
    /// single-threaded so results do not depend on the thread count (see `sgemm`).
    public static func setThreads(_ n: Int) {
        openblas_set_num_threads(1)
        ParallelConfig.threads = max(1, n)
    }

    /// CPU feature flags from /proc/cpuinfo (Linux); empty when unreadable.
    static func cpuFlags() -> Set<String> {
        guard let s = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return [] }
        for line in s.split(separator: "\n") where line.hasPrefix("flags") {
            if let colon = line.firstIndex(of: ":") {
                return Set(line[line.index(after: colon)...].split(separator: " ").map(String.init))
            }
        }
        return []
    }

    /// The CPU's vector ISA level as the kernels see it: avx512, avx2, avx, sse4.2 or baseline.
    public static var isaLevel: String {
        let f = cpuFlags()
        if f.contains("avx512f") && f.contains("avx512bw") && f.contains("avx512vl") { return "avx512" }
        if f.contains("avx2") && f.contains("fma") { return "avx2" }
        if f.contains("avx") { return "avx" }
        if f.contains("sse4_2") { return "sse4.2" }
        return f.isEmpty ? "unknown" : "baseline"
    }

    /// The best kernel this CPU supports among the ladder, or nil if it cannot tell.
    static func bestKernelForCPU() -> String? {
        let f = cpuFlags()
        if f.contains("avx512f") && f.contains("avx512bw") && f.contains("avx512vl") { return "SkylakeX" }
        if f.contains("avx2") && f.contains("fma") { return "Haswell" }
        return nil
    }

    /// Result of the numerical self-test: worst relative error over the tested shapes.
    public static func selfTest() -> (passed: Bool, worstRelativeError: Double) {
        // Odd sizes, all four transpose combinations, a size that crosses the kernel's blocking.
        let shapes: [(Int, Int, Int, Bool, Bool)] = [
            (7, 13, 5, false, false), (33, 17, 65, true, false), (64, 129, 31, false, true),
            (127, 65, 97, true, true), (1, 300, 257, false, false), (200, 3, 150, false, true),
        ]
        var rng = SeededGenerator(seed: 0x5EAF01D)
        var worst = 0.0
        for (m, n, k, ta, tb) in shapes {
            let a = (0..<(m * k)).map { _ in rng.uniform(-1, 1) }
            let b = (0..<(k * n)).map { _ in rng.uniform(-1, 1) }
            var c = [Float](repeating: 0.5, count: m * n)
            let lda = ta ? m : k, ldb = tb ? k : n
            a.withUnsafeBufferPointer { ap in b.withUnsafeBufferPointer { bp in c.withUnsafeMutableBufferPointer { cp in
                sgemm(transA: ta, transB: tb, m: m, n: n, k: k, alpha: 1.5, a: ap.baseAddress!, lda: lda,
                      b: bp.baseAddress!, ldb: ldb, beta: 0.25, c: cp.baseAddress!, ldc: n)
            } } }
            var num = 0.0, den = 0.0
            for i in 0..<m { for j in 0..<n {
                var acc = 0.0
                for p in 0..<k {
                    let av = Double(ta ? a[p * lda + i] : a[i * lda + p])
                    let bv = Double(tb ? b[j * ldb + p] : b[p * ldb + j])
                    acc += av * bv
                }
                let ref = 1.5 * acc + 0.25 * 0.5
                let d = Double(c[i * n + j]) - ref
                num += d * d; den += ref * ref
            } }
            let rel = (num / max(den, 1e-30)).squareRoot()
            if !rel.isFinite { return (false, .infinity) }
            worst = max(worst, rel)
        }
        return (worst < 1e-4, worst)
    }

    private static func log(_ s: String) {
        FileHandle.standardError.write(("seafold: " + s + "\n").data(using: .utf8)!)
    }

    /// Re-executes this program with `OPENBLAS_CORETYPE=kernel`; returns only if exec failed.
    private static func reexec(with kernel: String, tried: [String]) {
        setenv("OPENBLAS_CORETYPE", kernel, 1)
        setenv(markerVariable, (tried + [kernel]).joined(separator: ","), 1)
        execv("/proc/self/exe", CommandLine.unsafeArgv)
        log("could not re-execute with OPENBLAS_CORETYPE=\(kernel) (errno \(errno)); continuing on kernel \(corename)")
    }

    /// What `ensureFastKernel` does, as a pure decision (tested without exec).
    enum Action: Equatable {
        /// Re-execute with OPENBLAS_CORETYPE = kernel and the tried-marker = tried.
        case reexec(kernel: String, tried: [String], log: String?)
        /// Keep running; print `log` to stderr if non-nil.
        case run(log: String?)
    }

    /// The decision before the self-test: an override or a fallback kernel means re-exec.
    static func decideBeforeTest(env: [String: String], loaded: String, cpuBest: String?) -> Action? {
        let tried = (env[markerVariable] ?? "").split(separator: ",").map(String.init).filter { !$0.isEmpty }
        if !tried.isEmpty { return nil }
        if let u = env["SEAFOLD_BLAS_CORETYPE"], !u.isEmpty {
            return env["OPENBLAS_CORETYPE"] == u ? nil : .reexec(kernel: u, tried: [], log: nil)
        }
        if env["OPENBLAS_CORETYPE"] != nil { return nil }   // the user chose; respected (logged later if slow)
        if slowCores.contains(loaded.lowercased()), let best = cpuBest { return .reexec(kernel: best, tried: [], log: nil) }
        return nil
    }

    /// The decision after the self-test of the loaded kernel.
    static func decideAfterTest(env: [String: String], loaded: String, cpuBest: String?, passed: Bool,
                                error: Double, announce: Bool) -> Action {
        let tried = (env[markerVariable] ?? "").split(separator: ",").map(String.init).filter { !$0.isEmpty }
        if !passed {
            let current = env["OPENBLAS_CORETYPE"] ?? loaded
            let idx = ladder.firstIndex { $0.lowercased() == current.lowercased() }
                ?? ladder.firstIndex { $0.lowercased() == loaded.lowercased() } ?? -1
            let history = tried.isEmpty ? [current] : tried
            if let next = ladder.dropFirst(idx + 1).first(where: { k in !history.contains(k) }) {
                return .reexec(kernel: next, tried: history, log: String(format: "BLAS kernel %@ FAILED the self-test (relative error %.2g); re-running with the safer kernel %@", loaded, error, next))
            }
            return .run(log: String(format: "WARNING: BLAS kernel %@ failed the self-test (relative error %.2g) and no safer kernel is left; results may be wrong", loaded, error))
        }
        let userChose = (env["SEAFOLD_BLAS_CORETYPE"].map { !$0.isEmpty } ?? false) || (tried.isEmpty && env["OPENBLAS_CORETYPE"] != nil)
        if slowCores.contains(loaded.lowercased()), let best = cpuBest {
            return .run(log: "BLAS kernel \(loaded) (slow fallback kernel; this CPU supports \(best)\(userChose ? ", kept because the user chose it" : ""); set SEAFOLD_BLAS_CORETYPE to change)")
        }
        if tried.count > 1 {
            return .run(log: "BLAS kernel \(loaded) (after a failed self-test of \(tried.dropLast().joined(separator: ", ")))")
        }
        return .run(log: announce ? "BLAS kernel \(loaded) (self-test passed, relative error \(String(format: "%.1e", error)))" : nil)
    }

    /// The engine's process setup, for a program's `main` to call before anything else: a
    /// suitable, self-tested OpenBLAS kernel (`ensureFastKernel`, which may re-execute the
    /// process) and one engine thread per core (`setThreads`; workers may set their own later).
    public static func prepareProcess(verbose: Bool = false) {
        ensureFastKernel(verbose: verbose)
        setThreads(ProcessInfo.processInfo.activeProcessorCount)
    }

    /// Call first thing in `main`. May replace the process (exec) and never returns in that case.
    /// `verbose` (or a terminal on stderr, or SEAFOLD_VERBOSE=1) logs the kernel in use;
    /// fallbacks and failures are always logged.
    public static func ensureFastKernel(verbose: Bool = false) {
        let env = ProcessInfo.processInfo.environment
        let best = bestKernelForCPU()
        if case let .reexec(kernel, tried, _)? = decideBeforeTest(env: env, loaded: corename, cpuBest: best) {
            reexec(with: kernel, tried: tried)
        }
        let test = selfTest()
        let announce = verbose || isatty(2) != 0 || env["SEAFOLD_VERBOSE"] == "1"
        switch decideAfterTest(env: env, loaded: corename, cpuBest: best, passed: test.passed,
                               error: test.worstRelativeError, announce: announce) {
        case let .reexec(kernel, tried, message):
            if let message { log(message) }
            reexec(with: kernel, tried: tried)
        case let .run(message):
            if let message { log(message) }
        }
    }
}
