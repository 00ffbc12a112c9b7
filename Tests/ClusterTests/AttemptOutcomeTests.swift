@testable import Cluster
import Foundation
import GRDB
import Scheduling
import XCTest

/// `AttemptOutcome` is stored as text in `attempts.outcome`: ledgers written while it was a
/// plain string must read back unchanged, and new rows must hold the same text.
final class AttemptOutcomeTests: XCTestCase {
    /// The texts the ledger has always held, written out by hand (not derived from the enum).
    static let storedTexts = ["running", "done", "failed", "lost", "busy", "refused", "timed-out", "cancelled"]

    func testRawValuesAreTheStoredTexts() {
        XCTAssertEqual(AttemptOutcome.allCases.map(\.rawValue), Self.storedTexts)
        let ends: [Scheduler.LeaseEnd] = [.failed, .lost, .busy, .refused, .timedOut, .cancelled]
        for end in ends { XCTAssertEqual(AttemptOutcome(end).rawValue, end.rawValue) }
    }

    func testRowsWrittenAsTextReadBackAndNewRowsWriteTheSameText() throws {
        let dir = tempDir("outcome")
        let ledger = try Ledger(runDirectory: dir)
        // Rows as an older seafold wrote them: plain text in the outcome column.
        try ledger.db.write { db in
            for (i, text) in Self.storedTexts.enumerated() {
                try db.execute(sql: "INSERT INTO attempts VALUES (?,?,?,?,?,?,?,?)",
                               arguments: ["tok\(i)", "task\(i)", 1, "w", Double(i), nil as Double?, text, nil as String?])
            }
        }
        XCTAssertEqual(try ledger.timeline().map(\.outcome.rawValue), Self.storedTexts)
        XCTAssertEqual(try ledger.timeline().map(\.outcome),
                       [.running, .done, .failed, .lost, .busy, .refused, .timedOut, .cancelled])

        var a = try XCTUnwrap(ledger.timeline().first)
        a.outcome = .timedOut
        try ledger.commit(attempts: [a])
        let text = try ledger.db.read { db in try String.fetchOne(db, sql: "SELECT outcome FROM attempts WHERE leaseToken = 'tok0'") }
        XCTAssertEqual(text, "timed-out")
    }

    func testUnknownOutcomeIsAnErrorNamingTheLedgerAndValue() throws {
        let dir = tempDir("outcome-unknown")
        let ledger = try Ledger(runDirectory: dir)
        try ledger.db.write { db in
            try db.execute(sql: "INSERT INTO attempts VALUES ('tokX','t',1,'w',0,NULL,'exploded',NULL)")
        }
        XCTAssertThrowsError(try ledger.timeline()) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("ledger.sqlite"), text)
            XCTAssertTrue(text.contains("'exploded'"), text)
            XCTAssertTrue(text.contains("timed-out"), text)
        }
    }
}
