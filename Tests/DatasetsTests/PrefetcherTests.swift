import Datasets
import SeafoldCore
import XCTest

/// `Prefetcher`: the items, and every random draw made while producing them, are the same
/// with the background thread (any depth) as computed inline (depth 0); errors surface at the
/// item that failed; a cancelled prefetcher stops producing.
final class PrefetcherTests: XCTestCase {
    /// Items that consume a random stream: a different count of draws per item, so any
    /// reordering or skipped item would change every later value.
    private func drain(depth: Int, count: Int = 50, slowConsumer: Bool = false) throws -> [[UInt64]] {
        var rng = SeededGenerator(seed: 42)
        let p = Prefetcher<[UInt64]>(depth: depth) { i in
            guard i < count else { return nil }
            return (0...(i % 7)).map { _ in rng.next() }
        }
        var out: [[UInt64]] = []
        while let x = try p.next() {
            out.append(x)
            if slowConsumer { usleep(200) }
        }
        XCTAssertNil(try p.next(), "the sequence stays ended")
        XCTAssertEqual(p.delivered, count)
        if depth == 0 { XCTAssertEqual(p.starved, count, "inline, every item is waited for") }
        XCTAssertLessThanOrEqual(p.starved, count + 1, "each item, and the end of the sequence, waited for at most once")
        return out
    }

    func testSameItemsAndRandomDrawsAtEveryDepth() throws {
        let reference = try drain(depth: 0)
        XCTAssertEqual(reference.count, 50)
        XCTAssertEqual(reference[3].count, 4)
        for depth in [1, 2, 5] {
            XCTAssertEqual(try drain(depth: depth), reference, "depth \(depth)")
            XCTAssertEqual(try drain(depth: depth, slowConsumer: true), reference, "depth \(depth), slow consumer")
        }
    }

    func testProducerRunsAheadAtMostDepthItems() throws {
        let lock = NSLock()
        var produced = 0
        let p = Prefetcher<Int>(depth: 2) { i in
            lock.lock(); produced = i + 1; lock.unlock()
            return i < 100 ? i : nil
        }
        XCTAssertEqual(try p.next(), 0)
        usleep(50_000)  // let the producer fill its queue
        lock.lock(); let ahead = produced; lock.unlock()
        // Item 0 taken, items 1 and 2 queued, item 3 may be in the making: never more.
        XCTAssertLessThanOrEqual(ahead, 4)
        XCTAssertGreaterThanOrEqual(ahead, 3)
        p.cancel()
        XCTAssertNil(try p.next())
    }

    func testErrorIsRethrownAtItsItem() throws {
        struct Boom: Error {}
        for depth in [0, 2] {
            let p = Prefetcher<Int>(depth: depth) { i in
                if i == 3 { throw Boom() }
                return i
            }
            XCTAssertEqual(try p.next(), 0)
            XCTAssertEqual(try p.next(), 1)
            XCTAssertEqual(try p.next(), 2)
            XCTAssertThrowsError(try p.next(), "depth \(depth)") { XCTAssertTrue($0 is Boom) }
            XCTAssertNil(try p.next(), "after the error the sequence has ended")
        }
    }

    func testDeallocationStopsAnEndlessProducer() throws {
        let lock = NSLock()
        var produced = 0
        do {
            let p = Prefetcher<Int>(depth: 2) { i in
                lock.lock(); produced += 1; lock.unlock()
                return i
            }
            XCTAssertEqual(try p.next(), 0)
        }
        usleep(50_000)
        lock.lock(); let a = produced; lock.unlock()
        usleep(50_000)
        lock.lock(); let b = produced; lock.unlock()
        XCTAssertEqual(a, b, "the producer thread has stopped")
        XCTAssertLessThanOrEqual(b, 4)
    }
}
