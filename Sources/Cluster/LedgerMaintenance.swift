import Foundation

/// Maintenance writes to the ledger made outside a coordinator (`seafold gc`).
extension Ledger {
    /// Records one event (ledger and events.jsonl), e.g. kind "gc" with what was freed.
    public func recordEvent(kind: String, detail: String, now: Double = Date().timeIntervalSince1970) throws {
        try commit(events: [EventRecord(time: now, kind: kind, task: nil, worker: nil, detail: detail)])
    }
}
