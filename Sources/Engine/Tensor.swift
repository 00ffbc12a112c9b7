/// A dense Float32 tensor in row-major (C, NCHW for images) order, as PyTorch's contiguous tensors.
///
/// `Tensor` is the value type that crosses the Engine's public API (inputs, outputs, state
/// dicts). Layers work on preallocated `FloatBuffer`s internally and copy in/out only at the edges.
public struct Tensor: Equatable, Sendable {
    public var shape: [Int]
    /// The contiguous elements, row-major.
    public var data: [Float]

    /// A tensor of the given shape over `data`; `data.count` must equal the product of `shape`.
    public init(shape: [Int], data: [Float]) {
        precondition(shape.reduce(1, *) == data.count,
                     "Tensor shape \(shape) needs \(shape.reduce(1, *)) elements, got \(data.count)")
        self.shape = shape
        self.data = data
    }

    /// A tensor of zeros.
    public init(zeros shape: [Int]) {
        self.shape = shape
        self.data = [Float](repeating: 0, count: shape.reduce(1, *))
    }

    /// A copy of the elements.
    public var scalars: [Float] { data }

    /// The number of elements.
    public var count: Int { data.count }

    /// Element access by a full multi-index (slow; for tests and small tools).
    public subscript(_ index: Int...) -> Float {
        get { data[flatIndex(index)] }
        set { data[flatIndex(index)] = newValue }
    }

    private func flatIndex(_ index: [Int]) -> Int {
        precondition(index.count == shape.count, "index rank \(index.count) != tensor rank \(shape.count)")
        var f = 0
        for (i, d) in zip(index, shape) { f = f * d + i }
        return f
    }

    /// Human-readable shape, e.g. `[64, 3, 11, 11]`.
    public static func describe(_ shape: [Int]) -> String { "[" + shape.map(String.init).joined(separator: ", ") + "]" }
}
