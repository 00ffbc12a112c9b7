/// Errors a user can act on. Each names the file, key or field and says what would fix it.
public enum SeafoldError: Error, CustomStringConvertible, Equatable, Sendable {
    /// A file that could not be read or written.
    case io(path: String, reason: String)
    /// A file whose contents are wrong (bad image, lying header, wrong shape...).
    case badInput(path: String, reason: String)
    /// A configuration key with a wrong value or type.
    case config(key: String, reason: String)
    /// A shape or key mismatch between two things that must agree (e.g. weights vs model).
    case mismatch(what: String, expected: String, found: String)
    /// Training diverged (NaN or exploding loss).
    case diverged(reason: String)
    /// Anything else, with a complete sentence.
    case message(String)

    public var description: String {
        switch self {
        case let .io(path, reason): return "\(path): \(reason)"
        case let .badInput(path, reason): return "\(path): \(reason)"
        case let .config(key, reason): return "config key '\(key)': \(reason)"
        case let .mismatch(what, expected, found): return "\(what): expected \(expected), found \(found)"
        case let .diverged(reason): return "training diverged: \(reason)"
        case let .message(m): return m
        }
    }
}


import Foundation
extension SeafoldError: LocalizedError {
    public var errorDescription: String? { description }
}
