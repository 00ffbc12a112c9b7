import XCTest
@testable import Engine
import SeafoldCore
#if canImport(Glibc)
import Glibc
#endif

/// Proof that a warmed-up training loop allocates no large memory: Engine buffers
/// (FloatBuffer/IndexBuffer) are counted exactly over N train steps; any other allocation of
/// ≥ 1 MiB (Swift arrays, C code) is forced onto fresh mmap'd pages and would show as ≥ 256
/// minor page faults; and glibc's bytes in use must not grow. (Counting every small malloc needs
/// malloc interposition, which would clash with the sanitizer builds of this test bundle, and
/// the Swift runtime's allocation hook crashes on small strings in 6.3, so it is not counted.)
final class AllocationTests: XCTestCase {
    func testNoLargeAllocationInWarmTrainingLoop() throws {
        let net = try AlexNet(config: FusedGradientTests.config, seed: 4)
        let trainer = try Trainer(model: net, optimizer: Adam(lr: 1e-4, weightDecay: 1e-4))
        var rng = SeededGenerator(seed: 5)
        let batches = (0..<4).map { _ in TrainingTests.batch(6, size: 63, rng: &rng) }
        for (x, y) in batches.prefix(2) { try trainer.step(input: x, labels: y.map { $0 % 3 }, rng: &rng) }   // warm-up

        // Every allocation ≥ 1 MiB is served by a fresh mmap from here on (glibc's threshold
        // would otherwise rise to 32 MiB after the first free), so touching one costs ≥ 256
        // minor page faults: a warm loop that allocates nothing large faults (almost) never.
        try setMmapThreshold(BufferAllocations.largeBytes - 4096)
        let steps = 10
        let labels = batches.map { $0.1.map { $0 % 3 } }
        let buffersBefore = BufferAllocations.snapshot
        let heapBefore = try mallocInUseBytes()
        let faultsBefore = minorFaults()
        for s in 0..<steps {
            let (x, _) = batches[2 + s % 2]
            try trainer.step(input: x, labels: labels[2 + s % 2], rng: &rng)
        }
        let faults = minorFaults() - faultsBefore
        let heapAfter = try mallocInUseBytes()
        let buffersAfter = BufferAllocations.snapshot

        XCTAssertEqual(buffersAfter.count - buffersBefore.count, 0, "Engine buffers allocated in \(steps) warm steps")
        XCTAssertLessThan(faults, 256, "minor page faults in \(steps) warm steps (one fresh 1 MiB block is 256)")
        let inUseGrowth: Int = heapAfter - heapBefore
        XCTAssertLessThan(inUseGrowth, BufferAllocations.largeBytes, "malloc'd bytes in use grew by \(inUseGrowth)")
        print("\(steps) warm train steps: \(buffersAfter.count - buffersBefore.count) Engine buffers, \(faults) minor page faults, malloc in-use growth \(inUseGrowth) bytes")
    }

    private func minorFaults() -> Int {
        var u = rusage(); getrusage(RUSAGE_SELF.rawValue, &u); return Int(u.ru_minflt)
    }

    /// mallopt(M_MMAP_THRESHOLD, n) by symbol (<malloc.h> is not in Swift's Glibc module).
    private func setMmapThreshold(_ n: Int) throws {
        typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
        guard let h = dlopen(nil, RTLD_NOW), let sym = dlsym(h, "mallopt") else { throw XCTSkip("no mallopt") }
        let M_MMAP_THRESHOLD: Int32 = -3
        XCTAssertEqual(unsafeBitCast(sym, to: Mallopt.self)(M_MMAP_THRESHOLD, Int32(n)), 1)
    }

    /// glibc's bytes in use (heap from the system + mmap'd chunks − free chunks), from
    /// malloc_info's totals (mallinfo2 is not visible through Swift's Glibc module).
    private func mallocInUseBytes() throws -> Int {
        typealias MallocInfo = @convention(c) (Int32, UnsafeMutablePointer<FILE>?) -> Int32
        guard let h = dlopen(nil, RTLD_NOW), let sym = dlsym(h, "malloc_info") else { throw XCTSkip("no malloc_info") }
        let info = unsafeBitCast(sym, to: MallocInfo.self)
        var buf: UnsafeMutablePointer<CChar>? = nil
        var size = 0
        guard let f = open_memstream(&buf, &size) else { throw XCTSkip("no open_memstream") }
        _ = info(0, f)
        fclose(f)
        defer { free(buf) }
        let xml = String(cString: buf!)
        // The last <total …/> and <system type="current" …/> lines are the totals over all arenas.
        func last(_ prefix: String) -> Int {
            guard let line = xml.split(separator: "\n").last(where: { $0.hasPrefix(prefix) }),
                  let r = line.range(of: "size=\"") else { return 0 }
            return Int(line[r.upperBound...].prefix { $0.isNumber }) ?? 0
        }
        return last("<system type=\"current\"") + last("<total type=\"mmap\"") - last("<total type=\"fast\"") - last("<total type=\"rest\"")
    }
}
