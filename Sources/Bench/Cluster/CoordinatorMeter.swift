import Cluster
import Foundation

/// The coordinator's own CPU time and batch latency, measured on its serving thread through
/// `CoordinatorOptions.loopObserver`: install `observe` before the coordinator is made.
final class CoordinatorMeter: @unchecked Sendable {
    private let lock = NSLock()
    private var cpuAccumulated = 0.0
    private var runStart: Double?
    private var runNow = 0.0
    private var batchStart: (wall: Double, cpu: Double)?
    private var wallMs: [Double] = []
    private var cpuMs: [Double] = []

    /// The observer to install (`CoordinatorOptions.loopObserver`); runs on the serving thread.
    func observe(_ event: CoordinatorLoopEvent) {
        switch event {
        case .started:
            let t = Self.threadCPU()
            lock.lock(); runStart = t; runNow = t; lock.unlock()
        case .turn:
            let t = Self.threadCPU()
            lock.lock(); if runStart != nil { runNow = t }; lock.unlock()
        case .stopped:
            let t = Self.threadCPU()
            lock.lock(); if let s = runStart { cpuAccumulated += t - s }; runStart = nil; lock.unlock()
        case .batchBegan:
            batchStart = (Date().timeIntervalSince1970, Self.threadCPUPrecise())
        case let .batchEnded(leases):
            guard let b = batchStart else { return }
            batchStart = nil
            guard leases > 0 else { return }
            let wall = (Date().timeIntervalSince1970 - b.wall) * 1000, cpu = (Self.threadCPUPrecise() - b.cpu) * 1000
            lock.lock()
            if wallMs.count >= 100_000 { wallMs.removeFirst(50_000); cpuMs.removeFirst(50_000) }
            wallMs.append(wall); cpuMs.append(cpu)
            lock.unlock()
        }
    }

    /// Wall and serving-thread CPU milliseconds of each drained message batch that sent ASSIGNs
    /// (the coordinator's own share of a DONE → ASSIGN round trip; the rest is sockets and
    /// waiting to be scheduled), the last 100 000, starting at index `from`.
    func batchTimings(from: Int = 0) -> (wallMs: [Double], cpuMs: [Double], count: Int) {
        lock.lock(); defer { lock.unlock() }
        let s = min(from, wallMs.count)
        return (Array(wallMs[s...]), Array(cpuMs[s...]), wallMs.count)
    }

    /// CPU seconds the serving thread has used in `run` so far (sampled each loop turn).
    func coordinatorCPUSeconds() -> Double {
        lock.lock(); defer { lock.unlock() }
        if let s = runStart { return cpuAccumulated + runNow - s }
        return cpuAccumulated
    }

    /// This thread's CPU time, nanosecond clock (RUSAGE_THREAD counts in scheduler ticks).
    static func threadCPUPrecise() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    /// This thread's CPU time (user + system), RUSAGE_THREAD (Linux).
    static func threadCPU() -> Double {
        var ru = rusage()
        getrusage(__rusage_who_t(1), &ru)  // RUSAGE_THREAD (Linux)
        return Double(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) + Double(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6
    }
}
