import Engine
import Foundation

/// A multi-threaded memcpy of a large buffer, cut into parts the way Adam cuts its pass: the
/// machine's achievable streaming bandwidth, to judge Adam's GB/s against in the same run.
final class CopyBench {
    let bytes: Int
    private let src: AlignedFloats, dst: AlignedFloats

    init(bytes: Int) {
        self.bytes = bytes
        src = AlignedFloats(count: bytes / 4); dst = AlignedFloats(count: bytes / 4)
        for i in stride(from: 0, to: bytes / 4, by: 1024) { src.ptr[i] = Float(i) }
    }

    /// Seconds for one copy of `bytes` bytes (read `bytes`, write `bytes`).
    func seconds() -> Double {
        let n = bytes / 4, parts = min(Adam.maximumParts, max(1, n / Adam.elementsPerPart))
        let s = src.ptr, d = dst.ptr
        let t0 = EngineBenchmark.now()
        parallelFor(parts) { part in
            let lo = part * n / parts, hi = (part + 1) * n / parts
            memcpy(d + lo, s + lo, (hi - lo) * 4)
        }
        return EngineBenchmark.now() - t0
    }
}


/// A 64-byte-aligned, zeroed Float32 buffer (as the engine's own buffers are), for benchmark
/// inputs handed to the engine's kernels.
final class AlignedFloats {
    let ptr: UnsafeMutablePointer<Float>
    let count: Int

    init(count: Int) {
        self.count = max(count, 1)
        let raw = UnsafeMutableRawPointer.allocate(byteCount: self.count * MemoryLayout<Float>.stride, alignment: 64)
        ptr = raw.bindMemory(to: Float.self, capacity: self.count)
        ptr.initialize(repeating: 0, count: self.count)
    }

    deinit { UnsafeMutableRawPointer(ptr).deallocate() }

    /// Copies `a` into the first `a.count` floats (`a.count` must not exceed `count`).
    func copy(from a: [Float]) {
        precondition(a.count <= count)
        a.withUnsafeBufferPointer { src in if let b = src.baseAddress { ptr.update(from: b, count: a.count) } }
    }
}
