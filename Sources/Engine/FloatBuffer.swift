import Synchronization

/// A reusable, 64-byte-aligned Float32 buffer.
///
/// Large activations, im2col matrices and gradients live in these and are allocated once
/// (grown only when a larger batch arrives): glibc returns large freed blocks to the kernel
/// and faults them in again on reuse, which costs more than the arithmetic
/// (docs/REFERENCE_SEMANTICS.md, "Platform facts").
final class FloatBuffer {
    private(set) var ptr: UnsafeMutablePointer<Float>
    private(set) var capacity: Int

    init(count: Int = 0) {
        capacity = max(count, 1)
        ptr = FloatBuffer.allocate(capacity)
    }

    deinit { UnsafeMutableRawPointer(ptr).deallocate() }

    private static func allocate(_ n: Int) -> UnsafeMutablePointer<Float> {
        BufferAllocations.record(bytes: n * MemoryLayout<Float>.stride)
        let raw = UnsafeMutableRawPointer.allocate(byteCount: n * MemoryLayout<Float>.stride, alignment: 64)
        let p = raw.bindMemory(to: Float.self, capacity: n)
        p.initialize(repeating: 0, count: n)
        return p
    }

    /// Makes room for `n` floats. Contents are kept only when no growth was needed.
    func ensure(_ n: Int) {
        if n <= capacity { return }
        UnsafeMutableRawPointer(ptr).deallocate()
        capacity = n
        ptr = FloatBuffer.allocate(n)
    }

    func zero(_ n: Int) { ptr.update(repeating: 0, count: n) }

    func copy(from a: [Float]) {
        ensure(a.count)
        a.withUnsafeBufferPointer { src in
            if let b = src.baseAddress { ptr.update(from: b, count: a.count) }
        }
    }

    func array(_ n: Int) -> [Float] { Array(UnsafeBufferPointer(start: ptr, count: n)) }
}

/// Same as `FloatBuffer`, for Int32 indices (max-pool argmax).
final class IndexBuffer {
    private(set) var ptr: UnsafeMutablePointer<Int32>
    private(set) var capacity: Int
    init() { capacity = 1; ptr = .allocate(capacity: 1) }
    deinit { ptr.deallocate() }
    func ensure(_ n: Int) {
        if n <= capacity { return }
        ptr.deallocate()
        capacity = n
        BufferAllocations.record(bytes: n * MemoryLayout<Int32>.stride)
        ptr = .allocate(capacity: n)
        ptr.initialize(repeating: 0, count: n)
    }
}

/// Counts of the Engine's buffer allocations (FloatBuffer, IndexBuffer) since the process
/// started, so a test can prove that a warmed-up training loop allocates no buffers.
public enum BufferAllocations {
    static let countAll = Atomic<Int>(0)
    static let countLarge = Atomic<Int>(0)
    static let bytesAll = Atomic<Int>(0)
    /// Allocations of at least this many bytes count as large.
    public static let largeBytes = 1 << 20

    static func record(bytes: Int) {
        countAll.add(1, ordering: .relaxed)
        bytesAll.add(bytes, ordering: .relaxed)
        if bytes >= largeBytes { countLarge.add(1, ordering: .relaxed) }
    }

    /// (all allocations, allocations ≥ 1 MiB, bytes) so far.
    public static var snapshot: (count: Int, large: Int, bytes: Int) {
        (countAll.load(ordering: .relaxed), countLarge.load(ordering: .relaxed), bytesAll.load(ordering: .relaxed))
    }
}
