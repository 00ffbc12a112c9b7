import Scheduling

/// How one lease (attempt) of a task stands or ended, as stored in the ledger's `attempts.outcome`
/// column and in `AttemptRecord.outcome`. The raw values are the column's text, unchanged, so
/// ledgers written before this type existed read back as they were, and older readers read new
/// ledgers.
public enum AttemptOutcome: String, Codable, Sendable, CaseIterable {
    /// Leased and not ended yet.
    case running
    /// The worker's result was recorded.
    case done
    /// The worker reported a failure.
    case failed
    /// The worker went silent or away, or the coordinator restarted while the lease was out.
    case lost
    /// The worker had no free slot for the lease.
    case busy
    /// The coordinator refused the lease's upload for lack of space (counted against nobody).
    case refused
    /// The lease passed its deadline.
    case timedOut = "timed-out"
    /// The coordinator cancelled the lease (an input was invalidated).
    case cancelled

    /// The outcome recorded for a lease the scheduler ended without a result.
    public init(_ end: Scheduler.LeaseEnd) {
        switch end {
        case .failed: self = .failed
        case .lost: self = .lost
        case .busy: self = .busy
        case .refused: self = .refused
        case .timedOut: self = .timedOut
        case .cancelled: self = .cancelled
        }
    }
}
