import CZeroMQ
import Foundation
import Logging
import Synchronization

/// CURVE key files: `NAME.key` holds the secret key (mode 0600) and `NAME.pub` the public key,
/// each one line of 40 Z85 characters. An allow-list is a directory of `*.pub` files.
public enum KeyFiles {
    /// Generates a key pair and writes DIR/NAME.key (0600) and DIR/NAME.pub. Refuses to
    /// overwrite existing files.
    @discardableResult
    public static func generate(directory: URL, name: String) throws -> CurveKeyPair {
        try ArtifactStore.validateName(name)
        let fm = FileManager.default
        try? fm.createDirectory(at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let sec = directory.appendingPathComponent("\(name).key"), pub = directory.appendingPathComponent("\(name).pub")
        for f in [sec, pub] where fm.fileExists(atPath: f.path) {
            throw ClusterError.io(path: f.path, reason: "already exists; choose another --name or remove it first")
        }
        let pair = try CurveKeyPair.generate()
        guard fm.createFile(atPath: sec.path, contents: Data((pair.secretKey + "\n").utf8), attributes: [.posixPermissions: 0o600]) else {
            throw ClusterError.io(path: sec.path, reason: "cannot write secret key")
        }
        chmod(sec.path, 0o600)
        guard fm.createFile(atPath: pub.path, contents: Data((pair.publicKey + "\n").utf8), attributes: [.posixPermissions: 0o644]) else {
            throw ClusterError.io(path: pub.path, reason: "cannot write public key")
        }
        return pair
    }

    /// Loads DIR/NAME.key and DIR/NAME.pub.
    public static func load(directory: URL, name: String) throws -> CurveKeyPair {
        let sec = try readKey(directory.appendingPathComponent("\(name).key"))
        let pub = try readKey(directory.appendingPathComponent("\(name).pub"))
        return CurveKeyPair(publicKey: pub, secretKey: sec)
    }

    /// Reads one Z85 key file (whitespace trimmed; must be 40 valid Z85 characters).
    public static func readKey(_ url: URL) throws -> String {
        guard let d = FileManager.default.contents(atPath: url.path) else { throw ClusterError.io(path: url.path, reason: "cannot read key file") }
        let key = String(decoding: d, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard CurveKeyPair.decodeZ85(key) != nil else {
            throw ClusterError.config(key: url.path, reason: "not a 40-character Z85 CURVE key (make one with `seafold keys generate`)")
        }
        return key
    }

    /// Raw 32-byte public keys of every readable `*.pub` in the allow-list directory.
    public static func allowList(_ directory: URL) -> Set<Data> {
        Set(allowListNames(directory).keys)
    }

    /// Each allow-listed raw public key with its file's base name (`alice.pub` → "alice"); the
    /// first name in sorted order when one key is in several files.
    public static func allowListNames(_ directory: URL) -> [Data: String] {
        let files = (try? FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil)) ?? []
        var keys: [Data: String] = [:]
        for f in files.sorted(by: { $0.lastPathComponent < $1.lastPathComponent }) where f.pathExtension == "pub" {
            if let k = try? readKey(f), let raw = CurveKeyPair.decodeZ85(k), keys[raw] == nil {
                keys[raw] = f.deletingPathExtension().lastPathComponent
            }
        }
        return keys
    }

    /// Whether a worker authenticated with the key file NAME may use worker id `id`: the id is
    /// NAME itself or NAME-HEX (the random instance suffix `seafold worker` adds). Anything else
    /// would let one key's holder pose as, and evict, another key's workers.
    public static func keyName(_ name: String, mayClaim id: String) -> Bool {
        guard !name.isEmpty else { return false }
        if id == name { return true }
        guard id.hasPrefix(name + "-") else { return false }
        let rest = id.utf8.dropFirst(name.utf8.count + 1)
        return !rest.isEmpty && rest.allSatisfy { ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) }
    }
}

/// The ZAP handler (RFC 27) for one ZeroMQ context: a REP socket on inproc://zeromq.zap.01,
/// bound before the CURVE server binds, answering "200" only for client public keys found in
/// the allow-list directory (re-read on each handshake so keys can be added while running).
/// The user id it returns is the key's file name; the coordinator reads it from each message
/// (`User-Id` metadata) and accepts a READY only for ids that key may claim
/// (`KeyFiles.keyName(_:mayClaim:)`).
final class ZapHandler: Sendable {
    /// Used only by the handler's own thread after `init`.
    private let socket: ZMQSocket
    private let allowDirectory: URL
    private let logger: Logger
    private let stopping = Atomic<Bool>(false)
    private let finished = DispatchSemaphore(value: 0)
    private let deniedCount = Atomic<Int>(0)
    /// Clients refused so far (read from other threads).
    var denied: Int { deniedCount.load(ordering: .acquiring) }

    init(context: ZMQContext, allowDirectory: URL, logger: Logger) throws {
        socket = try ZMQSocket(context, .rep)
        try socket.bind("inproc://zeromq.zap.01")
        self.allowDirectory = allowDirectory
        self.logger = logger
        let t = Thread { [self] in loop() }
        t.name = "seafold-zap"
        t.start()
    }

    func stop() {
        stopping.store(true, ordering: .releasing)
        finished.wait()
    }

    private func loop() {
        defer { socket.close(); finished.signal() }
        while true {
            if stopping.load(ordering: .acquiring) { return }
            guard let req = try? socket.receive(timeoutMs: 100) else { continue }
            // version, request id, domain, address, identity, mechanism, credentials…
            guard req.count >= 6 else { _ = try? socket.send([Data("1.0".utf8), Data(), Data("400".utf8), Data("bad request".utf8), Data(), Data()]); continue }
            let requestID = req[1]
            let mechanism = String(decoding: req[5], as: UTF8.self)
            var user: String?
            if mechanism == "CURVE", req.count >= 7, req[6].count == 32 {
                user = KeyFiles.allowListNames(allowDirectory)[req[6]]
            }
            let ok = user != nil
            let address = String(decoding: req[3], as: UTF8.self)
            if !ok {
                deniedCount.add(1, ordering: .releasing)
                let who = req.count >= 7 ? (CurveKeyPair.encodeZ85(req[6]) ?? "?") : "?"
                logger.warning("denied \(mechanism) client \(address) with public key \(who): not in allow-list \(allowDirectory.path)")
            }
            let reply: [Data] = [Data("1.0".utf8), requestID, Data((ok ? "200" : "400").utf8),
                                 Data((ok ? "OK" : "not on the allow-list").utf8), Data((user ?? "").utf8), Data()]
            _ = try? socket.send(reply)
        }
    }
}

/// True for endpoints reachable only from this machine (loopback TCP, ipc, inproc).
func isLoopbackEndpoint(_ endpoint: String) -> Bool {
    if endpoint.hasPrefix("ipc://") || endpoint.hasPrefix("inproc://") { return true }
    guard endpoint.hasPrefix("tcp://") else { return false }
    let rest = endpoint.dropFirst(6)
    return rest.hasPrefix("127.") || rest.hasPrefix("localhost:") || rest.hasPrefix("[::1]:")
}
