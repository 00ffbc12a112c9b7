import Foundation

/// One generated image with its label, ground-truth evidence mask and the parameters that
/// produced it (recorded in the manifest).
public struct SyntheticSample: Sendable {
    public var image: Image
    public var label: Int
    public var className: String
    /// `width*height` values, 1 where the pixel carries the class's evidence, else 0.
    public var mask: [UInt8]
    /// Simulated site index (SyntheticSAS) or 0.
    public var site: Int
    public var parameters: [String: Double]

    public init(image: Image, label: Int, className: String, mask: [UInt8], site: Int, parameters: [String: Double]) {
        self.image = image
        self.label = label
        self.className = className
        self.mask = mask
        self.site = site
        self.parameters = parameters
    }
}

/// Runs `body(i)` for i in 0..<count on all cores; results are independent of scheduling
/// because each item derives its own generator from its index.
func parallelMap<T>(_ count: Int, progress: (@Sendable (Int, Int) -> Void)?, _ body: (Int) -> T) -> [T] {
    let box = UnsafeMutableBufferPointer<T?>.allocate(capacity: count)
    box.initialize(repeating: nil)
    defer { box.deallocate() }
    let lock = NSLock()
    var done = 0
    DispatchQueue.concurrentPerform(iterations: count) { i in
        let v = body(i)
        box[i] = v
        if let progress {
            lock.lock(); done += 1; let d = done; lock.unlock()
            progress(d, count)
        }
    }
    return box.map { $0! }
}
