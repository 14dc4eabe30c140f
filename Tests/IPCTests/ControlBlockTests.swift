import CIPC
import CodeSageCore
import Foundation
import Testing
@testable import IPC
#if canImport(Glibc)
import Glibc
#endif

@Suite("Control block", .serialized)
struct ControlBlockTests {
    static func names() -> (segment: String, lock: String) {
        let id = UUID().uuidString.prefix(8)
        return (ControlBlock.segmentName(instance: "test-\(id)"), NSTemporaryDirectory() + "codesage-cb-\(id).lock")
    }

    @Test("created by the supervisor, opened and validated by a worker: header, config, control and slots are shared")
    func roundTrip() throws {
        let (segment, lock) = Self.names()
        let supervisor = try ControlBlock.create(name: segment, lockPath: lock, maxWorkers: 4, numaNodes: 2)
        defer { supervisor.unlink() }
        let ticks = try ControlBlock.startTicks(pid: getpid())
        let worker = try ControlBlock.open(name: segment, supervisorPID: getpid(), startTicks: ticks)
        #expect(worker.maxWorkers == 4 && worker.numaNodes == 2 && worker.supervisorPID == getpid() && worker.supervisorStartTicks == ticks)
        #expect((0..<4).allSatisfy { cs_cb_slot_offset(UInt32($0)) % 64 == 0 } && cs_cb_slot_size() % 64 == 0)

        var config = ControlBlock.Config()
        config.globalBudget = 8 << 30; config.workerSoftLimit = 1 << 30; config.workerHardLimit = 3 << 29
        config.indexGeneration = 7; config.ompThreads = 2; config.nprobeDefault = 4; config.indexPath = "/srv/repo/.codesage"
        try supervisor.writeConfig(config)
        #expect(try worker.readConfig() == config)
        config.indexPath = String(repeating: "x", count: 300)
        #expect(throws: CodeSageError.self) { try supervisor.writeConfig(config) }

        #expect(worker.cleanupTarget == nil)
        #expect(supervisor.requestCleanup() == 1 && worker.cleanupGeneration == 1 && worker.cleanupTarget == nil)
        #expect(supervisor.requestCleanup(slot: 2) == 2 && worker.cleanupGeneration == 2 && worker.cleanupTarget == 2)
        #expect(!worker.shutdownRequested)
        supervisor.requestShutdown()
        #expect(worker.shutdownRequested)

        var slot = ControlBlock.Slot()
        slot.state = .ready; slot.pid = 1234; slot.numaNode = 1; slot.rssBytes = 100 << 20; slot.requests = 42
        slot.cleanupGenerationAcknowledged = 1; slot.indexGenerationLoaded = 7
        worker.writeSlot(2, slot)
        worker.heartbeat(2, nanoseconds: 99)
        slot.heartbeatNanoseconds = 99
        #expect(supervisor.slot(2) == slot)
        #expect(supervisor.slot(0).state == .empty && supervisor.slot(0).pid == 0)
        worker.writeSlot(9, slot)  // out of range: ignored, no crash
        #expect(supervisor.slot(9).state == .empty)
    }

    @Test("a live supervisor's block is not taken over; a dead one's (lock released, segment left) is replaced")
    func staleSegment() throws {
        let (segment, lock) = Self.names()
        var first: ControlBlock? = try ControlBlock.create(name: segment, lockPath: lock, maxWorkers: 2)
        var config = ControlBlock.Config()
        config.indexGeneration = 5
        try first!.writeConfig(config)
        #expect(throws: CodeSageError.self) { try ControlBlock.create(name: segment, lockPath: lock, maxWorkers: 2) }
        first = nil  // the lock is released, the segment stays: what a crashed supervisor leaves
        #expect(try ControlBlock.open(name: segment).readConfig().indexGeneration == 5)
        let second = try ControlBlock.create(name: segment, lockPath: lock, maxWorkers: 3)
        defer { second.unlink() }
        let reopened = try ControlBlock.open(name: segment)
        let generation = try reopened.readConfig().indexGeneration
        #expect(reopened.maxWorkers == 3 && generation == 0)
    }

    @Test("validation refuses another supervisor's block, a reused pid, a foreign or damaged segment, with the reason")
    func validation() throws {
        let (segment, lock) = Self.names()
        let supervisor = try ControlBlock.create(name: segment, lockPath: lock, maxWorkers: 2)
        defer { supervisor.unlink() }
        let ticks = try ControlBlock.startTicks(pid: getpid())
        #expect(throws: CodeSageError.self) { try ControlBlock.open(name: segment, supervisorPID: getpid() + 1, startTicks: ticks) }
        do {
            _ = try ControlBlock.open(name: segment, supervisorPID: getpid(), startTicks: ticks + 1)
            Issue.record("a reused pid was accepted")
        } catch {
            #expect(error.message.contains("reused"))
        }
        #expect(throws: CodeSageError.self) { try ControlBlock.open(name: ControlBlock.segmentName(instance: "missing-\(UUID().uuidString.prefix(8))")) }

        // Damage: the magic, the layout version, the total size.
        for (offset, value) in [(0, UInt64(0xDEAD)), (8, UInt64(99)), (16, UInt64(1 << 40))] {
            let (damaged, damagedLock) = Self.names()
            let block = try ControlBlock.create(name: damaged, lockPath: damagedLock, maxWorkers: 2)
            defer { block.unlink() }
            if offset == 8 { block.base.storeBytes(of: UInt32(value), toByteOffset: offset, as: UInt32.self) }
            else { block.base.storeBytes(of: value, toByteOffset: offset, as: UInt64.self) }
            do {
                _ = try ControlBlock.open(name: damaged)
                Issue.record("damage at offset \(offset) was accepted")
            } catch {
                #expect(error.code == .corruptData && error.message.contains(damaged))
            }
        }
        // A segment too small to hold a block.
        let tiny = ControlBlock.segmentName(instance: "tiny-\(UUID().uuidString.prefix(8))")
        let fd = shm_open(tiny, O_CREAT | O_RDWR, 0o600)
        #expect(fd >= 0 && ftruncate(fd, 16) == 0)
        close(fd)
        defer { shm_unlink(tiny) }
        #expect(throws: CodeSageError.self) { try ControlBlock.open(name: tiny) }
    }

    @Test("slot bounds come from each process's own count: a worker that rewrites the header's worker count reaches nothing outside the mapping")
    func privateSlotCount() throws {
        let (segment, lock) = Self.names()
        let supervisor = try ControlBlock.create(name: segment, lockPath: lock, maxWorkers: 2)
        defer { supervisor.unlink() }
        let worker = try ControlBlock.open(name: segment)
        // header.max_workers (offset 28: magic 8, version 4, header size 4, total size 8, pid 4), as a hostile worker would.
        worker.base.storeBytes(of: UInt32(1_000_000), toByteOffset: 28, as: UInt32.self)
        #expect(supervisor.maxWorkers == 2 && worker.maxWorkers == 2)
        var slot = ControlBlock.Slot()
        slot.pid = 77
        worker.writeSlot(500_000, slot)  // far past the mapping: ignored
        #expect(supervisor.slot(500_000).pid == 0 && supervisor.slot(500_000).state == .empty && supervisor.slot(999_999).pid == 0)
        worker.writeSlot(1, slot)
        #expect(supervisor.slot(1).pid == 77)
    }

    @Test("the seqlock never lets a reader see a half-written configuration")
    func seqlock() async throws {
        let (segment, lock) = Self.names()
        let supervisor = try ControlBlock.create(name: segment, lockPath: lock, maxWorkers: 1)
        defer { supervisor.unlink() }
        let worker = try ControlBlock.open(name: segment)
        let writer = Thread {
            var config = ControlBlock.Config()
            // Far more often than any supervisor writes, with a pause so that readers can complete (a writer
            // that never pauses starves seqlock readers by design).
            for i in 1...20_000 {
                config.globalBudget = UInt64(i); config.workerSoftLimit = UInt64(2 * i); config.indexPath = "generation-\(i)"
                try? supervisor.writeConfig(config)
                usleep(5)
            }
        }
        writer.start()
        var torn = 0, reads = 0, busy = 0, last: UInt64 = 0
        while last < 20_000 && reads < 5_000_000 {
            // `.busy`: the writer thread was preempted mid-write for the whole retry budget (this machine has
            // two cores), the documented answer and not a torn read; read again.
            guard let c = try Self.readUnlessBusy(worker) else {
                busy += 1
                continue
            }
            reads += 1
            if c.workerSoftLimit != 2 * c.globalBudget || (c.globalBudget > 0 && c.indexPath != "generation-\(c.globalBudget)") { torn += 1 }
            #expect(c.globalBudget >= last)
            last = c.globalBudget
        }
        #expect(torn == 0 && last == 20_000, "\(torn) torn reads of \(reads) (\(busy) busy)")
    }

    /// The configuration, or nil when the block answers `.busy`.
    static func readUnlessBusy(_ block: ControlBlock) throws(CodeSageError) -> ControlBlock.Config? {
        do {
            return try block.readConfig()
        } catch {
            if error.code == .busy { return nil }
            throw error
        }
    }
}
