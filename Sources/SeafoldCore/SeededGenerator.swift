/// The single source of randomness in seafold: xoshiro256** seeded through SplitMix64.
///
/// Every random choice in an experiment (initialisation, fold shuffles, samplers, dropout,
/// synthetic data, LIME perturbations) draws from a generator derived from the experiment
/// seed with `derive(_:)`, so a stream depends only on the seed and a stable label, never on
/// the order in which other streams were used. Same config → same numbers, on any worker.
public struct SeededGenerator: RandomNumberGenerator, Codable, Equatable, Sendable {
    public private(set) var state: [UInt64]

    /// Seeds the four state words from `seed` with SplitMix64 (the xoshiro authors' advice).
    public init(seed: UInt64) {
        var sm = seed
        var s: [UInt64] = []
        for _ in 0..<4 { s.append(SeededGenerator.splitMix64(&sm)) }
        if s.allSatisfy({ $0 == 0 }) { s[0] = 1 }
        state = s
    }

    /// Restores a generator from a saved state (e.g. a sampler's RNG in a checkpoint).
    public init(state: [UInt64]) {
        precondition(state.count == 4, "xoshiro256** state has four words")
        self.state = state
    }

    /// A new independent generator for the sub-stream named `label` (e.g. "fold-2/finetune").
    public static func derive(seed: UInt64, _ label: String) -> SeededGenerator {
        SeededGenerator(seed: seed ^ StableHash.fnv1a64(label))
    }

    /// A seed for the sub-stream `label` (e.g. to seed a model's initialisation).
    public static func derivedSeed(_ seed: UInt64, _ label: String) -> UInt64 {
        var g = derive(seed: seed, label)
        return g.next()
    }

    /// A child generator for `label`, independent of how much of `self` was used.
    public func derive(_ label: String) -> SeededGenerator {
        SeededGenerator(seed: state[0] ^ StableHash.fnv1a64(label) &* 0x9E37_79B9_7F4A_7C15)
    }

    static func splitMix64(_ x: inout UInt64) -> UInt64 {
        x &+= 0x9E37_79B9_7F4A_7C15
        var z = x
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    @inline(__always)
    public mutating func next() -> UInt64 {
        let result = rotl(state[1] &* 5, 7) &* 9
        let t = state[1] << 17
        state[2] ^= state[0]
        state[3] ^= state[1]
        state[1] ^= state[2]
        state[0] ^= state[3]
        state[2] ^= t
        state[3] = rotl(state[3], 45)
        return result
    }

    @inline(__always) private func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    /// Uniform in [0, 1) with 53 random bits.
    public mutating func nextDouble() -> Double { Double(next() >> 11) * 0x1.0p-53 }

    /// Uniform in [0, 1) with 24 random bits.
    public mutating func nextFloat() -> Float { Float(next() >> 40) * 0x1.0p-24 }

    /// Uniform in [lo, hi).
    public mutating func uniform(_ lo: Float, _ hi: Float) -> Float { lo + (hi - lo) * nextFloat() }

    /// Uniform integer in 0..<n, without modulo bias (Lemire's method).
    public mutating func nextInt(below n: Int) -> Int {
        precondition(n > 0)
        return Int(next(upperBound: UInt64(n)))
    }

    /// Standard normal by Box–Muller (one value per call; simple and reproducible).
    public mutating func normal() -> Double {
        var u1 = nextDouble()
        while u1 <= 0 { u1 = nextDouble() }
        let u2 = nextDouble()
        return (-2 * _log(u1)).squareRoot() * _cos(2 * Double.pi * u2)
    }

    /// Fisher–Yates shuffle in place, deterministic for a given state.
    public mutating func shuffle<T>(_ a: inout [T]) {
        if a.count < 2 { return }
        for i in stride(from: a.count - 1, to: 0, by: -1) {
            let j = nextInt(below: i + 1)
            if i != j { a.swapAt(i, j) }
        }
    }

    /// A random permutation of 0..<n.
    public mutating func permutation(_ n: Int) -> [Int] {
        var p = Array(0..<n)
        shuffle(&p)
        return p
    }
}

/// Stable (platform- and run-independent) hashes; Swift's `Hasher` is randomly seeded per process.
public enum StableHash {
    public static func fnv1a64(_ s: String) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in s.utf8 {
            h ^= UInt64(b)
            h = h &* 0x100_0000_01b3
        }
        return h
    }
}

#if canImport(Glibc)
import Glibc
@inline(__always) func _log(_ x: Double) -> Double { Glibc.log(x) }
@inline(__always) func _cos(_ x: Double) -> Double { Glibc.cos(x) }
#else
import Foundation
@inline(__always) func _log(_ x: Double) -> Double { Foundation.log(x) }
@inline(__always) func _cos(_ x: Double) -> Double { Foundation.cos(x) }
#endif
