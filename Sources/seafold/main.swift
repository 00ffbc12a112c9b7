import ArgumentParser
import Engine
import Foundation
#if canImport(Glibc)
import Glibc
#endif

// Optional tuned malloc, first thing (SEAFOLD_MALLOC=tuned). glibc hands large freed blocks
// back to the kernel (mmap'd chunks are unmapped, the heap top is trimmed) and faults them in
// again on the next use, which slows PyTorch's train step; these are the settings of PyTorch's
// tuned run (docs/REFERENCE_SEMANTICS.md, "Platform facts"). seafold's engine, though,
// allocates its big buffers once and nothing large per step (AllocationTests), and the tuned
// setting did not help its train step or inference (`seafold bench engine --malloc-compare`),
// so glibc's defaults stay the default and the tuning is opt-in until a workload shows it pays.
#if canImport(Glibc)
if ProcessInfo.processInfo.environment["SEAFOLD_MALLOC"] == "tuned",
   let sym = dlsym(dlopen(nil, RTLD_NOW), "mallopt") {
    // <malloc.h> is not part of Swift's Glibc module: mallopt by symbol, constants from malloc.h.
    typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
    let mallopt = unsafeBitCast(sym, to: Mallopt.self)
    let M_TRIM_THRESHOLD: Int32 = -1, M_MMAP_MAX: Int32 = -4
    _ = mallopt(M_MMAP_MAX, 0)
    _ = mallopt(M_TRIM_THRESHOLD, Int32.max)
}
#endif

// Before anything else: an OpenBLAS kernel that suits this CPU (the Debian build falls back to
// a slow SSE3 kernel; see docs/ARCHITECTURE.md, "BLAS kernel") and one engine thread per core
// (workers set their own with --threads).
BLASKernel.prepareProcess(verbose: CommandLine.arguments.contains("--verbose"))

if let unknown = UnknownSubcommand.message(CommandLine.arguments) {
    FileHandle.standardError.write(Data(unknown.utf8))
    exit(64)  // EX_USAGE, as the argument parser exits on a usage error
}
Seafold.main()
