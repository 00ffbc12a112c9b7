import Foundation
import Scheduling

/// A connected worker as the coordinator sees it (keyed by ZeroMQ routing id). Its slots and
/// leases are the Scheduler's (keyed by worker id); this is the connection.
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
    /// With CURVE: the allow-list file name of the key that said READY on this connection.
    var keyName: String?
}

extension Coordinator {
    func send(_ peer: Data, _ message: WireMessage) -> Bool {
        let ok = (try? router.send([peer] + message.frames, timeoutMs: 0)) ?? false
        return ok
    }

    /// True if this connection is the one holding the current lease `token`.
    func holds(_ peer: Data, _ token: String) -> Bool {
        guard let p = peers[peer], let l = sched.lease(token) else { return false }
        return l.worker == p.workerID && peerOf[p.workerID] == peer
    }

    /// HEARTBEAT's frames, encoded once (tens of them leave every tick with hundreds of workers).
    static let heartbeatFrames = WireMessage(.heartbeat, Empty()).frames

    /// Heartbeats out, dead peers expired. A peer is judged only on what this process could
    /// hear: not while messages still wait in the socket (they may be its heartbeats, queued
    /// while this thread was busy), and a gap in the serving loop itself (this process was not
    /// scheduled, or was stopped) is credited to every peer.
    func housekeeping(now: Double) {
        let deadline = options.heartbeatInterval * Double(options.liveness)
        let stall = lastLoopTurn > 0 ? now - lastLoopTurn : 0
        lastLoopTurn = now
        if stall > options.heartbeatInterval {
            for id in peerOrder { peers[id]?.lastSeen += stall }
        }
        let judge = !((try? router.poll(timeoutMs: 0)) ?? false)
        for id in peerOrder {
            guard var p = peers[id] else { continue }
            if judge && now - p.lastSeen > deadline {
                peerLost(id, reason: "went silent for \(String(format: "%.1f", now - p.lastSeen)) s (lease expired)", now: now, state: "lost", why: .silent)
                continue
            }
            if now >= p.nextHeartbeat {
                p.nextHeartbeat = now + options.heartbeatInterval
                peers[id] = p
                if !((try? router.send([id] + Coordinator.heartbeatFrames, timeoutMs: 0)) ?? false) {
                    peerLost(id, reason: "connection gone", now: now, state: "lost", why: .unreachable)
                }
            }
        }
    }

    /// Removes a peer; the Scheduler ends its leases and decides whom that is held against
    /// (`why`: only a silent worker's leases count, against the worker).
    func peerLost(_ id: Data, reason: String, now: Double, state: String, why: Scheduler.LeaveReason) {
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
        // A newer connection of the same worker took over: its READY already settled the leases.
        guard peerOf[p.workerID] == id else { return }
        peerOf[p.workerID] = nil
        apply(sched.handle(.workerLeft(worker: p.workerID, reason: why, detail: "worker \(p.workerID) \(reason)"), now: now), now: now)
    }

    func dismissAll(reason: String) {
        let now = Date().timeIntervalSince1970
        for id in peerOrder {
            _ = send(id, WireMessage(.bye, ReasonHeader(reason: reason)))
            peerLost(id, reason: reason, now: now, state: "dismissed", why: .dismissed)
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
