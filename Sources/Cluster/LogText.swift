import Foundation

/// Text that came from a peer (worker ids, hosts, error texts, progress messages) made safe for
/// a terminal or a log line: control characters (ESC, CR, BEL, C1 controls…) would otherwise let
/// a peer rewrite the operator's screen or forge log lines.
public enum LogText {
    /// Control characters as `\u{XX}` escapes (newline and tab too: one message, one line).
    public static func escape(_ s: String) -> String {
        guard s.unicodeScalars.contains(where: isControl) else { return s }
        var out = ""
        out.unicodeScalars.reserveCapacity(s.unicodeScalars.count)
        for u in s.unicodeScalars {
            if isControl(u) { out += "\\u{\(String(u.value, radix: 16))}" } else { out.unicodeScalars.append(u) }
        }
        return out
    }

    static func isControl(_ u: Unicode.Scalar) -> Bool {
        u.value < 0x20 || (u.value >= 0x7F && u.value < 0xA0) || u.value == 0x2028 || u.value == 0x2029
            || (u.value >= 0x202A && u.value <= 0x202E) || (u.value >= 0x2066 && u.value <= 0x2069)
    }
}
