@testable import Pipeline

extension TaskSpec {
    /// The typed spec of a fine-tune or baseline, for tests that change one of its settings
    /// (setting it keeps the kind).
    var network: NetworkTaskSpec? {
        get {
            switch self {
            case let .finetune(s), let .baseline(s): return s
            default: return nil
            }
        }
        set {
            guard let s = newValue else { return }
            if case .finetune = self { self = .finetune(s) } else if case .baseline = self { self = .baseline(s) }
        }
    }

    /// The fold selection of a network or explain task.
    var split: FoldSelection? {
        switch self {
        case let .finetune(s), let .baseline(s): return s.split
        case let .explain(s): return s.split
        default: return nil
        }
    }
}
