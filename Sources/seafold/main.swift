import ArgumentParser
import Engine
import Foundation
#if canImport(Glibc)
import Glibc
#endif

// Tuned malloc, first thing. glibc hands large freed blocks back to the kernel (mmap'd chunks
// are unmapped; the heap top is trimmed) and faults them in again, zero-filled, on the next
// use: for PyTorch's AlexNet train step that cost 1.7-5.6x here (shared/MACHINE.md). seafold's
// engine allocates its big buffers once, but everything around it (datasets, tensors crossing
// the API, LIME, SMO) allocates and frees large arrays per task. Serving big blocks from the
// heap (no mmap) and never trimming it keeps freed memory for reuse; the cost is that the
// resident size stays at the peak. Same settings as PyTorch's tuned run (MALLOC_MMAP_MAX_=0,
// MALLOC_TRIM_THRESHOLD_=1e11). SEAFOLD_MALLOC=default keeps glibc's defaults (for comparisons:
// `seafold bench engine --malloc-compare` measures both in one run).
#if canImport(Glibc)
if ProcessInfo.processInfo.environment["SEAFOLD_MALLOC"] != "default",
   let sym = dlsym(dlopen(nil, RTLD_NOW), "mallopt") {
    // <malloc.h> is not part of Swift's Glibc module: mallopt by symbol, constants from malloc.h.
    typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
    let mallopt = unsafeBitCast(sym, to: Mallopt.self)
    let M_TRIM_THRESHOLD: Int32 = -1, M_MMAP_MAX: Int32 = -4
    _ = mallopt(M_MMAP_MAX, 0)
    _ = mallopt(M_TRIM_THRESHOLD, Int32.max)
}
#endif

// Before anything else, make sure OpenBLAS runs on a kernel that suits this CPU
// (the Debian build falls back to a slow SSE3 kernel; see docs/ARCHITECTURE.md, "BLAS kernel").
BLASKernel.ensureFastKernel(verbose: CommandLine.arguments.contains("--verbose"))
// One engine thread per core by default (workers set their own with --threads); OpenBLAS
// itself stays single-threaded so results never depend on the thread count.
BLASKernel.setThreads(ProcessInfo.processInfo.activeProcessorCount)

Seafold.main()
