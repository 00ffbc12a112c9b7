import Foundation

/// A connected worker as the coordinator sees it (keyed by ZeroMQ routing id).
struct Peer {
    var routingID: Data
    var workerID: String
    var host: String
    var slots: Int
    var record: WorkerRecord
    var lastSeen: Double
    var nextHeartbeat: Double
    /// Artifact hashes this worker holds (announced in READY or fetched since): for locality.
    var cached: Set<String>
    /// Current leases.
    var leases: Set<String> = []
    /// Leases the worker still runs but that are no longer current (it occupies slots until it
    /// reports them).
    var staleBusy: Set<String> = []
    /// With CURVE: the allow-list file name of the key that said READY on this connection.
    var keyName: String?
    var freeSlots: Int { slots - leases.count - staleBusy.count }
    /// Join order (position in `peerOrder`): dispatch prefers earlier peers on ties.
    var order = 0
}

/// An upload in progress from a worker.
final class InboundUpload {
    let peer: Data
    let sha256: String
    let size: Int64
    let pending: PendingArtifact
    init(peer: Data, sha256: String, size: Int64, pending: PendingArtifact) {
        self.peer = peer; self.sha256 = sha256; self.size = size; self.pending = pending
    }
}

extension Coordinator {
    func send(_ peer: Data, _ message: WireMessage) -> Bool {
        let ok = (try? router.send([peer] + message.frames, timeoutMs: 0)) ?? false
        return ok
    }

    /// Drops a lease from whichever peer holds it, in place. (Assigning `peers[pid]` while
    /// iterating `peers.keys` copied the whole dictionary on every write: O(peers²) per DONE.)
    /// `holder`: the peer that most likely holds it (checked first; a lease has one holder).
    func releaseLease(_ token: String, holder: Data? = nil) {
        if let holder, peers[holder]?.leases.remove(token) != nil { maybeFree.insert(holder); return }
        var i = peers.values.startIndex
        while i != peers.values.endIndex {
            if peers.values[i].leases.contains(token) {
                peers.values[i].leases.remove(token)
                maybeFree.insert(peers.values[i].routingID)
            }
            peers.values.formIndex(after: &i)
        }
    }

    /// HEARTBEAT's frames, encoded once (tens of them leave every tick with hundreds of workers).
    static let heartbeatFrames = WireMessage(.heartbeat, Empty()).frames

    /// Heartbeats out, dead peers expired.
    func housekeeping(now: Double) {
        let deadline = options.heartbeatInterval * Double(options.liveness)
        for id in peerOrder {
            guard var p = peers[id] else { continue }
            if now - p.lastSeen > deadline {
                peerLost(id, reason: "went silent for \(String(format: "%.1f", now - p.lastSeen)) s (lease expired)", now: now, state: "lost")
                continue
            }
            if now >= p.nextHeartbeat {
                p.nextHeartbeat = now + options.heartbeatInterval
                peers[id] = p
                if !((try? router.send([id] + Coordinator.heartbeatFrames, timeoutMs: 0)) ?? false) {
                    peerLost(id, reason: "connection gone", now: now, state: "lost")
                }
            }
        }
    }

    /// Removes a peer; its leases end as lost and count against the tasks' attempts.
    func peerLost(_ id: Data, reason: String, now: Double, state: String) {
        guard let p = peers.removeValue(forKey: id) else { return }
        peerOrder.removeAll { $0 == id }
        for (tid, u) in uploads where u.peer == id { u.pending.abandon(); uploads[tid] = nil }
        var rec = p.record
        rec.lastSeen = p.lastSeen; rec.state = state
        let ev = EventRecord(time: now, kind: "worker-\(state)", task: nil, worker: p.workerID, detail: reason)
        do { try ledger.commit(workers: [rec], events: [ev]) } catch {
            log.error("ledger: \(error)")
            if storageFailed(error, path: ledger.path, now: now) { unpersistedEvents.append(ev) }
        }
        log.info("worker \(p.workerID) \(state): \(reason)")
        for token in p.leases.sorted() {
            endLease(token, outcome: "lost", error: "worker \(p.workerID) \(reason)", countsAsFailure: true, now: now)
        }
    }

    func dismissAll(reason: String) {
        let now = Date().timeIntervalSince1970
        for id in peerOrder {
            _ = send(id, WireMessage(.bye, ReasonHeader(reason: reason)))
            peerLost(id, reason: "dismissed: \(reason)", now: now, state: "dismissed")
        }
        try? router.setInt(ZMQ_LINGER_VALUE, 1000)
    }

    func dropped(_ reason: String, from peer: Data) {
        droppedMessages += 1
        let now = Date().timeIntervalSince1970
        if now - lastDropLog > 1 {
            lastDropLog = now
            log.warning("dropped message from \(peers[peer]?.workerID ?? peer.map { String(format: "%02x", $0) }.joined()): \(reason) (\(droppedMessages) dropped so far)")
        }
    }
}

import CZeroMQ
let ZMQ_LINGER_VALUE = ZMQ_LINGER
