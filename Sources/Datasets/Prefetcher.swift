import Foundation

/// A bounded producer/consumer queue that computes the items of a fixed sequence on one
/// background thread, at most `depth` items ahead of the consumer — the training loops use it
/// to assemble the next batch (sampling, normalisation) while the current step trains, as a
/// PyTorch `DataLoader` with one worker and `prefetch_factor = depth` does.
///
/// Determinism: `produce(0)`, `produce(1)`, … are called strictly in order, on one thread, and
/// handed out in that order, so any random stream the producer draws from is drawn in exactly
/// the order it would be without prefetching. Whoever supplies `produce` must keep the
/// producer's state (e.g. the sampler's RNG) away from the consumer's. `depth == 0` computes
/// each item on the calling thread inside `next()` (no thread at all): the reference the
/// prefetching path is compared with.
///
/// `produce` returns nil after the last item; an error it throws is rethrown by the `next()`
/// that would have returned that item. The producer stops when the prefetcher is cancelled or
/// deallocated (it finishes the item it is computing first).
public final class Prefetcher<Element> {
    public let depth: Int
    /// Seconds the consumer spent inside `next()` waiting for an item (with `depth == 0`: the
    /// time spent computing it, which is what the consumer waits for without prefetching).
    public private(set) var waitSeconds: Double = 0
    /// Calls of `next()` that returned an item.
    public private(set) var delivered = 0
    /// Calls of `next()` that found no item ready and had to block until the producer made one
    /// (with `depth == 0`: every item). The rest of `waitSeconds` is locking and, on a busy
    /// machine, the consumer thread waiting for a core — not for data.
    public var starved: Int { depth == 0 ? delivered : state.starved }
    /// Seconds spent blocked for an item not yet made (with `depth == 0`: computing it).
    public var starvedSeconds: Double { depth == 0 ? waitSeconds : state.starvedSeconds }

    private let state: State
    private var syncIndex = 0
    private var syncDone = false

    public init(depth: Int, produce: @escaping (Int) throws -> Element?) {
        self.depth = max(0, depth)
        state = State(depth: max(1, depth), produce: produce)
        if self.depth > 0 {
            let s = state
            let t = Thread { s.runProducer() }
            t.name = "seafold-prefetch"
            t.start()
        }
    }

    deinit { state.cancel() }

    /// The next item, or nil when the sequence has ended.
    public func next() throws -> Element? {
        let t0 = DispatchTime.now().uptimeNanoseconds
        defer { waitSeconds += Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9 }
        let item: Element?
        if depth == 0 {
            guard !syncDone else { return nil }
            do { item = try state.produce(syncIndex) } catch { syncDone = true; throw error }
            syncIndex += 1
            if item == nil { syncDone = true }
        } else {
            item = try state.take()
        }
        if item != nil { delivered += 1 }
        return item
    }

    /// Stops the producer; later `next()` calls return nil.
    public func cancel() {
        state.cancel()
        syncDone = true
    }

    /// What the producer thread shares with the consumer, guarded by one condition variable.
    private final class State: @unchecked Sendable {
        let depth: Int
        let produce: (Int) throws -> Element?
        private let cond = NSCondition()
        private var queue: [Result<Element?, Error>] = []
        private var cancelled = false
        private var ended = false
        private(set) var starved = 0
        private(set) var starvedSeconds = 0.0

        init(depth: Int, produce: @escaping (Int) throws -> Element?) {
            self.depth = depth
            self.produce = produce
        }

        func runProducer() {
            var i = 0
            while true {
                cond.lock()
                while queue.count >= depth && !cancelled { cond.wait() }
                let stop = cancelled
                cond.unlock()
                if stop { return }
                let r: Result<Element?, Error>
                do { r = .success(try produce(i)) } catch { r = .failure(error) }
                cond.lock()
                queue.append(r)
                cond.broadcast()
                cond.unlock()
                if case .success(.some) = r { i += 1 } else { return }
            }
        }

        func take() throws -> Element? {
            cond.lock()
            defer { cond.unlock() }
            if ended || cancelled { return nil }
            if queue.isEmpty && !cancelled {
                starved += 1
                let t0 = DispatchTime.now().uptimeNanoseconds
                while queue.isEmpty && !cancelled { cond.wait() }
                starvedSeconds += Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
            }
            if queue.isEmpty { return nil }
            // Dropped as soon as it is taken: the queue never holds more than `depth` batches.
            let r = queue.removeFirst()
            cond.broadcast()
            switch r {
            case .success(let e):
                if e == nil { ended = true }
                return e
            case .failure(let error):
                ended = true
                throw error
            }
        }

        func cancel() {
            cond.lock()
            cancelled = true
            cond.broadcast()
            cond.unlock()
        }
    }
}
