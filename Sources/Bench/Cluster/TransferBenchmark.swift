import Cluster
import Foundation

/// `seafold bench cluster`'s transfer section: artifact fetch and upload through a real
/// coordinator and worker (plain and CURVE), against raw ZeroMQ and the artifact store alone.
extension BenchClusterCommand {
    func transfers(_ dir: URL, bytes: Int) throws -> [String: Double] {
        var out: [String: Double] = [:]
        var g = SystemRandomNumberGenerator()
        var words = [UInt64](repeating: 0, count: bytes / 8)
        for i in words.indices { words[i] = g.next() }
        let blob = words.withUnsafeBytes { Data($0) }
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let src = dir.appendingPathComponent("blob")
        try blob.write(to: src)
        let mib = Double(bytes) / 1048576
        for curve in [false, true] {
            let run = dir.appendingPathComponent(curve ? "curve" : "plain")
            var o = Self.options("b")
            var wo = WorkerOptions(codeVersion: "b", cacheDirectory: run.appendingPathComponent("cache"))
            if curve {
                let keys = run.appendingPathComponent("keys"), allow = run.appendingPathComponent("allow")
                o.curve = try KeyFiles.generate(directory: keys, name: "server")
                wo.curve = try KeyFiles.generate(directory: allow, name: "worker")
                wo.workerID = WorkerOptions.uniqueID(name: "worker")   // the key decides the id
                wo.serverPublicKey = o.curve?.publicKey
                o.allowedKeysDirectory = allow
            }
            let c = try Coordinator(runDirectory: run, bind: "tcp://127.0.0.1:*", options: o)
            let h = try c.importArtifact(src)
            try c.submit([TaskDescriptor(id: "x", kind: "fetch", label: "x", spec: Data(), inputs: ["blob": .hash(h)])])
            var seconds = 0.0, upSeconds = 0.0
            // Every timed transfer starts with no dirty pages of earlier steps (the source file,
            // the import into the run's store, earlier copies): on ext4 an fsync can end up
            // flushing them too, which charged whichever transfer ran later for earlier writes.
            sync()
            let w = Worker(connect: c.endpoint, options: wo) { _, ctx in
                let t0 = Date()
                let fetched = try ctx.input("blob")
                seconds = Date().timeIntervalSince(t0)
                // The other direction: an upload of as many bytes the coordinator does not have
                // yet (one byte changed), timed from the request to the acknowledged store.
                var other = try Data(contentsOf: fetched)
                other[0] ^= 0xFF
                let up = ctx.scratchDirectory.appendingPathComponent("up")
                try other.write(to: up)
                let t1 = Date()
                try ctx.saveCheckpoint(up)
                upSeconds = Date().timeIntervalSince(t1)
                return TaskOutcome(result: Data("{}".utf8))
            }
            Thread { try? w.run() }.start()
            _ = Self.serve(c, mode: .allSettled)()
            out[curve ? "curve_fetch_mib_s" : "plain_fetch_mib_s"] = mib / seconds
            out[curve ? "curve_upload_mib_s" : "plain_upload_mib_s"] = mib / upSeconds
        }
        sync()
        out["raw_zmq_mib_s"] = try rawTransfer(blob)
        sync()
        let rawStore = try ArtifactStore(root: dir.appendingPathComponent("raw-store"))
        out["raw_zmq_store_mib_s"] = try rawTransfer(blob, file: src, into: rawStore)
        // The store's own cost without a network: sha256 + write + fsync + rename from memory,
        // the same background writer a fetch uses (a ceiling for any fetch into a store).
        let store = try ArtifactStore(root: dir.appendingPathComponent("local"))
        sync()
        let t0 = Date()
        let w = try store.beginWrite(background: true)
        var off = 0
        while off < blob.count { try w.append(blob.subdata(in: off..<min(blob.count, off + WireProtocol.chunkSize))); off += WireProtocol.chunkSize }
        try w.commit(expected: nil)
        out["local_store_write_mib_s"] = mib / Date().timeIntervalSince(t0)
        // SHA-256 alone (libcrypto, in memory, one thread): every fetch hashes every byte.
        let h0 = Date()
        _ = ArtifactStore.sha256(blob)
        out["sha256_mib_s"] = mib / Date().timeIntervalSince(h0)
        out["plain_vs_raw"] = out["plain_fetch_mib_s"]! / out["raw_zmq_mib_s"]!
        out["plain_vs_raw_store"] = out["plain_fetch_mib_s"]! / out["raw_zmq_store_mib_s"]!
        // The most any fetch into a store could reach against memory-to-memory raw ZeroMQ here.
        out["local_store_vs_raw"] = out["local_store_write_mib_s"]! / out["raw_zmq_mib_s"]!
        return out
    }

    /// ROUTER→DEALER over loopback TCP: the same `chunkSize` chunks with `credit` in flight. Without
    /// `file`, from memory into memory, no hashing or disk (the network's ceiling). With `file`
    /// and `into`, the same work a fetch does minus the protocol: the server reads each chunk
    /// from the file, the client streams it into the artifact store with the same background
    /// writer a fetch uses (sha256, write, then fsync, hash check and rename), with no headers,
    /// no JSON and no runner/I-O thread hand-off.
    func rawTransfer(_ blob: Data, file: URL? = nil, into store: ArtifactStore? = nil) throws -> Double {
        let ctx = try ZMQContext()
        let server = try ZMQSocket(ctx, .router)
        try server.bind("tcp://127.0.0.1:*")
        let ep = try server.lastEndpoint()
        let client = try ZMQSocket(ctx, .dealer)
        try client.connect(ep)
        let chunk = WireProtocol.chunkSize
        let fh = try file.map { try FileHandle(forReadingFrom: $0) }
        defer { try? fh?.close() }
        let serverDone = DispatchSemaphore(value: 0)
        Thread {
            while let f = try? server.receive(), f.count == 2 {
                let off = f[1].withUnsafeBytes { $0.loadUnaligned(as: Int.self) }
                if off < 0 { break }
                if let fh {
                    try? fh.seek(toOffset: UInt64(off))
                    _ = try? server.send([f[0], (try? fh.read(upToCount: chunk)) ?? Data()])
                } else {
                    _ = try? server.send([f[0], blob.subdata(in: off..<min(blob.count, off + chunk))])
                }
            }
            serverDone.signal()
        }.start()
        let expected = store == nil ? "" : ArtifactStore.sha256(blob)
        let t0 = Date()
        let sink = try store?.beginWrite(background: true)
        var next = 0, received = 0, inFlight = 0
        while received < blob.count {
            while inFlight < WireProtocol.credit && next < blob.count {
                var o = next
                try client.send([withUnsafeBytes(of: &o) { Data($0) }])
                next += chunk; inFlight += 1
            }
            guard let f = try client.receive(timeoutMs: 10_000) else { break }
            try sink?.append(f[0])
            received += f[0].count; inFlight -= 1
        }
        if let sink { try sink.commit(expected: expected) }
        let secs = Date().timeIntervalSince(t0)
        var stop = -1
        try client.send([withUnsafeBytes(of: &stop) { Data($0) }])
        serverDone.wait()
        return Double(blob.count) / 1048576 / secs
    }
}
