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

        // The one module that calls libc and the OS-level C libraries (NUMA, hwloc).
        .target(
            name: "Platform",
            dependencies: ["CodeSageCore", "CPlatform", "CNuma", "CHwloc"]
        ),

        // Swift wrapper over the FAISS shim.
        .target(
            name: "VectorIndex",
            dependencies: ["CodeSageCore", "CFaissShim", "Caching"]
        ),

        // Cache building blocks: LZ4 (in-memory) and zstd (persistent) codecs, the LRU cache, the
        // file cache, buffer pools and the model cache.
        .target(
            name: "Caching",
            dependencies: ["CodeSageCore", "Platform", "CZstd", "CLZ4"]
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
            dependencies: ["CodeSageCore", "Platform", "Caching"]
        ),

        // Small-m matrix products on weights in place (single queries): AVX2+FMA chosen at run time.
        .target(name: "CKernels"),

        // all-MiniLM-L6-v2 in Swift: tokenizer, safetensors, encoder, int8 weights, model cache.
        .target(
            name: "Embedding",
            dependencies: ["CodeSageCore", "CBLAS", "CKernels", "Caching"]
        ),

        // Discovery, chunking, the SQLite store, the FAISS build and generations: a root → an index.
        .target(
            name: "Indexing",
            dependencies: [
                "CodeSageCore", "CSQLite", "Platform", "Caching", "VectorIndex", "Embedding",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        // Semantic, lexical and hybrid search over a published generation; duplicates.
        .target(
            name: "Search",
            dependencies: ["CodeSageCore", "Indexing", "VectorIndex", "Platform", "Caching"]
        ),

        // Line counts, imports, file outlines and undocumented definitions of a root or a file.
        .target(name: "CodeInsight", dependencies: ["CodeSageCore", "Indexing"]),

        // MCP tools and transports (stdio, Streamable HTTP over NIO).
        .target(
            name: "MCPServer",
            dependencies: [
                "CodeSageCore", "Platform", "Indexing", "Search", "CodeInsight", "Caching", "MemoryManagement",
                .product(name: "MCP", package: "swift-sdk"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "SystemPackage", package: "swift-system"),
            ]
        ),

        // One worker process of a supervised deployment: pinning, the control block, its socket, drain.
        .target(
            name: "Worker",
            dependencies: [
                "CodeSageCore", "Platform", "IPC", "MCPServer",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        // The supervisor: worker plan over the NUMA topology, spawn/reap/restart, budgets, reload, status.
        .target(
            name: "Supervisor",
            dependencies: [
                "CodeSageCore", "Platform", "IPC", "Indexing",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        // The command-line interface.
        .executableTarget(
            name: "codesage",
            dependencies: [
                "CodeSageCore", "Platform", "MCPServer", "Embedding", "Indexing", "Search", "IPC", "Supervisor", "Worker",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        // Speed benchmarks (scripts/bench-*); release builds only.
        .executableTarget(
            name: "codesage-bench",
            dependencies: ["Embedding", "CBLAS", "CodeSageCore", "Platform", "Indexing", "Search", "Caching"]
        ),

        // libFuzzer targets (scripts/fuzz builds them with -sanitize=fuzzer); a corpus replay runner otherwise.
        .executableTarget(
            name: "codesage-fuzz",
            dependencies: [
                "CIPC", "CodeSageCore", "Embedding", "Indexing", "MCPServer",
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
        .testTarget(name: "CachingTests", dependencies: ["Caching", "MemoryManagement", "Platform", "CodeSageCore"]),
        .testTarget(name: "CodeSageCoreTests", dependencies: ["CodeSageCore"]),
        .testTarget(name: "PlatformTests", dependencies: ["Platform", "CodeSageCore"]),
        .testTarget(name: "NativeLibraryTests", dependencies: ["CBLAS", "Caching", "Indexing", "VectorIndex", "Platform"]),
        .testTarget(
            name: "MCPServerTests",
            dependencies: [
                "MCPServer", "CodeSageCore", "Embedding", "Indexing",
                .product(name: "MCP", package: "swift-sdk"),
            ]
        ),
        .testTarget(name: "CLITests", dependencies: ["CodeSageCore"]),
        .testTarget(name: "CodeInsightTests", dependencies: ["CodeInsight", "Indexing", "CodeSageCore"]),
        .testTarget(name: "IndexingTests", dependencies: ["Indexing", "Search", "VectorIndex", "Embedding", "Platform", "CodeSageCore"]),
    ],
    swiftLanguageModes: [.v6]
)
