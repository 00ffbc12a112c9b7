import Foundation

/// Filters derived from a layer's weights (Winograd-transformed, or repacked for implicit
/// GEMM), kept while the weights they came from are unchanged.
///
/// Inference and LIME run the same weights for thousands of batches, and the transform of a
/// 3×3 layer's filters costs as much as a small batch; training changes the weights every step.
/// Instead of a version counter that every writer of a weight would have to bump, the cache
/// keeps a copy of the weights and compares it bytewise (one memcmp, cheap next to the transform).
final class FilterCache {
    private let u = FloatBuffer(), source = FloatBuffer()
    private var tag = -1, count = 0

    /// The transformed filters for `weights` (`count` floats) under transform `tag`, computing
    /// them with `compute` (into `uFloats` floats) only when the weights or the tag changed.
    func filters(weights: UnsafePointer<Float>, count: Int, tag: Int, uFloats: Int,
                 compute: (UnsafeMutablePointer<Float>) -> Void) -> UnsafePointer<Float> {
        if tag == self.tag, count == self.count, memcmp(source.ptr, weights, count * MemoryLayout<Float>.stride) == 0 {
            return UnsafePointer(u.ptr)
        }
        u.ensure(uFloats)
        compute(u.ptr)
        source.ensure(count)
        source.ptr.update(from: weights, count: count)
        self.tag = tag; self.count = count
        return UnsafePointer(u.ptr)
    }
}
