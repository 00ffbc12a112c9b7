import Foundation

/// Checks `condition` every `interval` seconds until it holds or `timeout` seconds pass;
/// returns whether it held (checked once more at the deadline). A wait for an event, never a
/// timing assertion: the timeout only bounds a test that would otherwise hang.
public func waitUntil(_ timeout: TimeInterval, every interval: TimeInterval = 0.02, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if condition() { return true }
        usleep(useconds_t(interval * 1_000_000))
    }
    return condition()
}
