import Foundation
import Testing
@testable import CodeSageCore
@testable import Platform

@Suite("Topology: hwloc and libnuma")
struct TopologyTests {
    @Test("loads, with at least one node holding every CPU we may use")
    func load() throws {
        let topology = try Topology.load()
        #expect(!topology.nodes.isEmpty)
        #expect(topology.processingUnits >= 1)
        #expect(topology.cores >= 1 && topology.cores <= topology.processingUnits)
        let cpus = Set(topology.nodes.flatMap(\.cpus))
        #expect(cpus.count >= ProcessInfoReader.onlineCPUCount())
        #expect(topology.numaMaxNode >= 0)
    }

    @Test("memory preference and CPU binding work on this machine's first node (a no-op without NUMA)")
    func placement() async throws {
        let topology = try Topology.load()
        let node = topology.nodes[0]
        let applied = try Placement.preferMemory(on: node.id)
        #expect(applied == topology.numaAvailable)
        #expect(throws: CodeSageError.self) { try Placement.preferMemory(on: NUMANode(topology.numaMaxNode + 1)) }
        // Bind a fresh thread, so the test runner's own threads are left alone.
        let thread = Thread {
            do { try Placement.bindCurrentThread(toCPUs: node.cpus) } catch { Issue.record("bind failed: \(error)") }
        }
        thread.start()
        #expect(throws: CodeSageError.self) { try Placement.bindCurrentThread(toCPUs: []) }
    }
}

@Suite("Process facts from /proc")
struct ProcessMemoryTests {
    @Test("this process has RSS, PSS and USS")
    func readSelf() throws {
        let memory = try ProcessMemory.read()
        #expect(memory.rss > 1 << 20)
        #expect(memory.pss > 0 && memory.pss <= memory.rss + (1 << 20))
        #expect(memory.uss > 0 && memory.uss <= memory.rss + (1 << 20))
        #expect(memory.peakRSS >= memory.rss)
    }

    @Test("parses smaps_rollup and status text")
    func parse() {
        var memory = ProcessMemory()
        memory.apply(status: "Name:\tx\nVmHWM:\t  2048 kB\nVmRSS:\t  1024 kB\nVmSize:\t 9000 kB\n")
        memory.apply(smapsRollup: """
            00400000-7fff [rollup]
            Rss:                1024 kB
            Pss:                 600 kB
            Pss_Anon:            100 kB
            Pss_File:            500 kB
            Shared_Clean:        800 kB
            Shared_Dirty:          0 kB
            Private_Clean:       150 kB
            Private_Dirty:        74 kB
            Swap:                  3 kB
            """)
        #expect(memory.rss == 1024 * 1024)
        #expect(memory.peakRSS == 2048 * 1024)
        #expect(memory.pss == 600 * 1024)
        #expect(memory.uss == 224 * 1024)
        #expect(memory.shared == 800 * 1024)
        #expect(memory.swap == 3 * 1024)
        #expect(memory.pssFile == 500 * 1024)
    }
}

@Suite("Files")
struct FileSystemTests {
    @Test("durable writes replace the file whole and leave no temporary file")
    func durableWrite() throws {
        let folder = try FileSystem.makeTemporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = "\(folder)/manifest.json"
        try FileSystem.writeDurably(Array("old".utf8), to: path)
        try FileSystem.writeDurably(Array("new contents".utf8), to: path)
        #expect(try FileSystem.readText(path) == "new contents")
        #expect(try FileSystem.size(of: path) == 12)
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder) == ["manifest.json"])
        #expect { try FileSystem.readFile("\(folder)/missing") } throws: { ($0 as? CodeSageError)?.code == .notFound }
        #expect { try FileSystem.writeDurably([1], to: "\(folder)/no/such/folder/x") } throws: { ($0 as? CodeSageError)?.code == .io }
    }

    @Test("the executable path is absolute")
    func executable() throws {
        #expect(try ProcessInfoReader.executablePath().hasPrefix("/"))
        #expect(ProcessInfoReader.onlineCPUCount() >= 1)
    }
}
