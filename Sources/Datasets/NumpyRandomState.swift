import SeafoldCore

/// NumPy's legacy `np.random.RandomState`, bit for bit, for the parts scikit-learn's splitters
/// use: the MT19937 generator (Matsumoto & Nishimura 1998), seeded from an integer as
/// `RandomState(seed)` does (`_legacy_seeding` → `mt19937_seed`, Knuth's linear init with
/// multiplier 1812433253), its raw 32-bit outputs, `random_interval` (the masked rejection
/// rule for a bounded integer) and `shuffle` of a 1-d array (Fisher–Yates from the last
/// element, `j = random_interval(i)`). It exists so seeded folds equal scikit-learn's
/// `StratifiedKFold(shuffle=True, random_state=seed)` exactly; seafold's own streams use
/// `SeededGenerator`.
public struct NumpyRandomState: Sendable {
    private var mt = [UInt32](repeating: 0, count: 624)
    private var index = 624

    /// `np.random.RandomState(seed)`: NumPy accepts integer seeds in 0...2³²−1 only.
    public init(seed: UInt64) throws {
        guard seed <= UInt64(UInt32.max) else {
            throw SeafoldError.config(key: "seed", reason: "\(seed) is larger than 2^32 - 1 = 4294967295, the largest seed NumPy's RandomState (and so scikit-learn's random_state) accepts; use a smaller seed")
        }
        mt[0] = UInt32(seed)
        for i in 1..<624 {
            mt[i] = 1_812_433_253 &* (mt[i - 1] ^ (mt[i - 1] >> 30)) &+ UInt32(i)
        }
        index = 624
    }

    private mutating func generate() {
        let upper: UInt32 = 0x8000_0000, lower: UInt32 = 0x7FFF_FFFF, matrixA: UInt32 = 0x9908_B0DF
        for i in 0..<624 {
            let y = (mt[i] & upper) | (mt[(i + 1) % 624] & lower)
            mt[i] = mt[(i + 397) % 624] ^ (y >> 1) ^ ((y & 1) != 0 ? matrixA : 0)
        }
        index = 0
    }

    /// The next raw 32-bit output (`genrand_int32`; NumPy's `next_uint32` for MT19937).
    public mutating func nextUInt32() -> UInt32 {
        if index >= 624 { generate() }
        var y = mt[index]
        index += 1
        y ^= y >> 11
        y ^= (y << 7) & 0x9D2C_5680
        y ^= (y << 15) & 0xEFC6_0000
        y ^= y >> 18
        return y
    }

    /// The next raw 64-bit output: two 32-bit outputs, the first as the high word (`next_uint64`).
    public mutating func nextUInt64() -> UInt64 {
        let hi = UInt64(nextUInt32())
        return (hi << 32) | UInt64(nextUInt32())
    }

    /// A uniform integer in 0...max by NumPy's `random_interval`: draw under the smallest bit
    /// mask covering `max` (32-bit draws while max fits 32 bits) until the value is ≤ max.
    public mutating func randomInterval(_ max: UInt64) -> UInt64 {
        if max == 0 { return 0 }
        var mask = max
        mask |= mask >> 1; mask |= mask >> 2; mask |= mask >> 4
        mask |= mask >> 8; mask |= mask >> 16; mask |= mask >> 32
        if max <= UInt64(UInt32.max) {
            while true { let v = UInt64(nextUInt32()) & mask; if v <= max { return v } }
        }
        while true { let v = nextUInt64() & mask; if v <= max { return v } }
    }

    /// `RandomState.shuffle(x)` of a 1-d array: for i = n−1 down to 1, swap x[i] with
    /// x[random_interval(i)].
    public mutating func shuffle<T>(_ a: inout [T]) {
        guard a.count > 1 else { return }
        for i in stride(from: a.count - 1, through: 1, by: -1) {
            let j = Int(randomInterval(UInt64(i)))
            if i != j { a.swapAt(i, j) }
        }
    }
}
