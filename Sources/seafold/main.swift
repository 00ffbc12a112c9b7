import ArgumentParser
import Engine
import Foundation

// Entry point. Before anything else, make sure OpenBLAS runs on a kernel that suits this CPU
// (the Debian build falls back to a slow SSE3 kernel; see docs/ARCHITECTURE.md, "BLAS kernel").
BLASKernel.ensureFastKernel(verbose: CommandLine.arguments.contains("--verbose"))
// One engine thread per core by default (workers set their own with --threads); OpenBLAS
// itself stays single-threaded so results never depend on the thread count.
BLASKernel.setThreads(ProcessInfo.processInfo.activeProcessorCount)

Seafold.main()
