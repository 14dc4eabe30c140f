// swift-tools-version: 6.1
// CodeSage: a code-intelligence MCP server. Layout and reasons: docs/architecture.md.

import PackageDescription

/// A system library target over a Debian -dev package: Sources/CSystem/<name>/module.modulemap.
func systemLibrary(_ name: String, apt: String) -> Target {
    .systemLibrary(name: name, path: "Sources/CSystem/\(name)", providers: [.apt([apt])])
}

let package = Package(
    name: "CodeSage",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "codesage", targets: ["codesage"]),
        .executable(name: "codesage-bench", targets: ["codesage-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-system", from: "1.8.1"),
        .package(url: "https://github.com/modelcontextprotocol/swift-sdk", exact: "0.12.1"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    ],
    targets: [
        // C libraries from Debian, each behind a module map.
        systemLibrary("CBLAS", apt: "libopenblas-dev"),
        systemLibrary("CZstd", apt: "libzstd-dev"),
        systemLibrary("CLZ4", apt: "liblz4-dev"),
        systemLibrary("CNuma", apt: "libnuma-dev"),
        systemLibrary("CHwloc", apt: "libhwloc-dev"),
        systemLibrary("CSQLite", apt: "libsqlite3-dev"),

        // extern "C" shim over Debian's static libfaiss.a (which ships no C API).
        .target(
            name: "CFaissShim",
            linkerSettings: [
                .linkedLibrary("faiss"),
                .linkedLibrary("gomp"),
                .linkedLibrary("openblas"),
            ]
        ),

        // Config, errors and typed ids: everything else depends on this and on nothing else of ours.
        .target(name: "CodeSageCore"),

        // libc calls that need _GNU_SOURCE (CPU affinity, malloc_trim).
        .target(name: "CPlatform"),

        // The one module that calls libc and the OS-level C libraries (NUMA, hwloc); content hashes (SHA-256).
        .target(
            name: "Platform",
            dependencies: ["CodeSageCore", "CPlatform", "CNuma", "CHwloc", .product(name: "Crypto", package: "swift-crypto")]
        ),

        // Preallocated, reusable byte buffers (FAISS results, encoder scratch, cache blocks): a leaf.
        .target(name: "Buffers"),

        // Swift wrapper over the FAISS shim.
        .target(
            name: "VectorIndex",
            dependencies: ["CodeSageCore", "Platform", "CFaissShim", "Buffers"]
        ),

        // Cache building blocks: LZ4 (in-memory) and zstd (persistent) codecs, the LRU cache, the
        // file cache, the model cache and the vector cache in front of a model.
        .target(
            name: "Caching",
            dependencies: ["CodeSageCore", "Platform", "Buffers", "CZstd", "CLZ4"]
        ),

        // The control block's layout (ipc/include/cs_control_block.h) and its C11-atomic accessors.
        .target(name: "CIPC", path: "ipc"),

        // The supervisor's POSIX shared-memory control block: create under a lock, open and validate, seqlocked config, slots.
        .target(
            name: "IPC",
            dependencies: ["CodeSageCore", "Platform", "CIPC"]
        ),

        // The memory manager (samples /proc, cleans up near the budget) and adaptive cache sizing.
        .target(
            name: "MemoryManagement",
            dependencies: ["CodeSageCore", "Platform", "Buffers", "Caching"]
        ),

        // Small-m matrix products on weights in place (single queries): AVX2+FMA chosen at run time.
        // Optimised in debug builds too (see Embedding).
        .target(name: "CKernels", cSettings: [.unsafeFlags(["-O2"], .when(configuration: .debug))]),

        // all-MiniLM-L6-v2 in Swift: tokenizer, safetensors, encoder, int8 weights; EncoderEmbedder, the model as a TextEmbedder.
        .target(
            name: "Embedding",
            dependencies: ["CodeSageCore", "Platform", "CBLAS", "CKernels", "Buffers"],
            // Optimised in debug builds too: the test suite and the debug binary it drives embed thousands of
            // texts, and at -Onone the golden int8 test alone took 144 s (docs/architecture.md).
            swiftSettings: [.unsafeFlags(["-O"], .when(configuration: .debug))]
        ),

        // What a repository is made of: languages, discovery (ignore rules, wildmatch), source text,
        // definitions and chunks.
        .target(name: "SourceModel", dependencies: ["CodeSageCore", "Platform"]),

        // The index format: layout, manifest, the SQLite store (files, chunks, FTS5, embedding cache;
        // rows versioned by generation) and its integrity check.
        .target(
            name: "IndexStore",
            dependencies: ["CodeSageCore", "CSQLite", "Platform", "Caching", "VectorIndex"]
        ),

        // The pipeline: a root → an index (lock, incremental run, FAISS plan and build, publish).
        .target(
            name: "Indexing",
            dependencies: [
                "CodeSageCore", "Platform", "SourceModel", "IndexStore", "VectorIndex",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        // Semantic, lexical and hybrid search over a published generation; duplicates.
        .target(
            name: "Search",
            dependencies: ["CodeSageCore", "IndexStore", "SourceModel", "VectorIndex", "Platform", "Buffers", "Caching"]
        ),

        // Line counts, imports, file outlines and undocumented definitions of a root or a file.
        .target(name: "CodeInsight", dependencies: ["CodeSageCore", "SourceModel"]),

        // The application core: the workspace (model, engines, caches, pools, memory manager, adaptive
        // sizer), model loading from the configuration, index runs, cache warming, and the typed
        // operations every adapter calls (MCP tools, CLI, worker, benchmarks).
        .target(
            name: "CodeSageService",
            dependencies: [
                "CodeSageCore", "Platform", "Buffers", "Caching", "MemoryManagement", "Embedding", "SourceModel",
                "IndexStore", "Indexing", "Search", "CodeInsight",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        // MCP tools and transports (stdio, Streamable HTTP over NIO): adapters over CodeSageService.
        .target(
            name: "MCPServer",
            dependencies: [
                "CodeSageCore", "Platform", "CodeSageService", "Search", "CodeInsight", "Caching", "MemoryManagement",
                .product(name: "MCP", package: "swift-sdk"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "SystemPackage", package: "swift-system"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),

        // One worker process of a supervised deployment: pinning, the control block, its socket, drain.
        .target(
            name: "Worker",
            dependencies: [
                "CodeSageCore", "Platform", "IPC", "CodeSageService", "MCPServer",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),

        // The supervisor: worker plan over the NUMA topology, spawn/reap/restart, budgets, reload, status.
        .target(
            name: "Supervisor",
            dependencies: [
                "CodeSageCore", "Platform", "IPC", "IndexStore",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        // The command-line interface.
        .executableTarget(
            name: "codesage",
            dependencies: [
                "CodeSageCore", "Platform", "CodeSageService", "MCPServer", "Embedding", "IndexStore", "Indexing", "Search", "IPC", "Supervisor", "Worker",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        // Speed benchmarks (scripts/bench-*); release builds only.
        .executableTarget(
            name: "codesage-bench",
            dependencies: ["Embedding", "CBLAS", "CodeSageCore", "Platform", "SourceModel", "IndexStore", "Indexing", "Search", "Caching", "CodeSageService"]
        ),

        // libFuzzer targets (scripts/fuzz builds them with -sanitize=fuzzer); a corpus replay runner otherwise.
        .executableTarget(
            name: "codesage-fuzz",
            dependencies: [
                "CIPC", "CodeSageCore", "Embedding", "SourceModel", "MCPServer",
                .product(name: "MCP", package: "swift-sdk"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),

        .testTarget(name: "EmbeddingTests", dependencies: ["Embedding", "CodeSageCore", "Caching"]),
        .testTarget(name: "IPCTests", dependencies: ["IPC", "CIPC", "CodeSageCore"]),
        .testTarget(name: "SupervisorTests", dependencies: ["Supervisor", "Worker", "Platform", "CodeSageCore"]),
        .testTarget(name: "CachingTests", dependencies: ["Buffers", "Caching", "MemoryManagement", "Platform", "CodeSageCore"]),
        .testTarget(name: "CodeSageCoreTests", dependencies: ["CodeSageCore"]),
        .testTarget(name: "PlatformTests", dependencies: ["Platform", "CodeSageCore"]),
        .testTarget(name: "NativeLibraryTests", dependencies: ["CBLAS", "Caching", "IndexStore", "SourceModel", "Indexing", "VectorIndex", "Platform"]),
        .testTarget(
            name: "MCPServerTests",
            dependencies: [
                "MCPServer", "CodeSageService", "CodeSageCore", "Embedding", "SourceModel", "IndexStore", "Indexing", "Search",
                .product(name: "MCP", package: "swift-sdk"),
            ]
        ),
        .testTarget(name: "CLITests", dependencies: ["CodeSageCore"]),
        .testTarget(name: "CodeInsightTests", dependencies: ["CodeInsight", "SourceModel", "CodeSageCore"]),
        .testTarget(name: "IndexingTests", dependencies: ["SourceModel", "IndexStore", "Indexing", "Search", "VectorIndex", "Embedding", "Platform", "Caching", "CodeSageCore"]),
    ],
    swiftLanguageModes: [.v6]
)
