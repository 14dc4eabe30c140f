import Foundation
import Testing
@testable import CodeSageCore

@Suite("Setting values")
struct SettingParsingTests {
    @Test("sizes accept MB, GB, KB, TB, fractions and plain megabytes")
    func sizes() {
        #expect(ByteSize.parse("512MB") == 512 << 20)
        #expect(ByteSize.parse("1GB") == 1 << 30)
        #expect(ByteSize.parse("1gib") == 1 << 30)
        #expect(ByteSize.parse("1.5GB") == 3 << 29)
        #expect(ByteSize.parse("1024") == 1 << 30)
        #expect(ByteSize.parse(" 64 KB ") == 64 << 10)
        #expect(ByteSize.parse("2T") == 2 << 40)
        for bad in ["lots", "", "MB", "-1", "1XB", "1e3MB", "nan"] {
            #expect(ByteSize.parse(bad) == nil, "\(bad) should be rejected")
        }
        #expect(ByteSize.format(1 << 30) == "1GB")
        #expect(ByteSize.format(1536 << 10) == "1536KB")
        #expect(ByteSize.format(100) == "100B")
    }

    @Test("booleans accept true/false/1/0/yes/no/on/off in any case")
    func booleans() throws {
        let spec = try #require(SettingCatalog.spec(named: SettingCatalog.Name.numaAware))
        for yes in ["true", "TRUE", "1", "yes", "On"] {
            #expect(try SettingParser.parse(yes, for: spec, home: nil) == .boolean(true))
        }
        for no in ["false", "0", "NO", "off"] {
            #expect(try SettingParser.parse(no, for: spec, home: nil) == .boolean(false))
        }
        #expect(throws: CodeSageError.self) { try SettingParser.parse("maybe", for: spec, home: nil) }
    }

    @Test("CPU lists: ranges, singles, auto and none")
    func affinity() {
        #expect(CPUAffinity.parse("0-3,8") == .cpus([0, 1, 2, 3, 8]))
        #expect(CPUAffinity.parse("5,1,1") == .cpus([1, 5]))
        #expect(CPUAffinity.parse("auto") == .automatic)
        #expect(CPUAffinity.parse("NONE") == CPUAffinity.none)
        for bad in ["", "3-1", "a", "1,,2", "-1", "1-2-3", "99999"] {
            #expect(CPUAffinity.parse(bad) == nil, "\(bad) should be rejected")
        }
        #expect(CPUAffinity.cpus([0, 1, 2, 3, 8, 10, 11]).description == "0-3,8,10-11")
    }

    @Test("an invalid value names the variable, the value and what is accepted")
    func errorMessages() {
        let cases: [(String, String, String)] = [
            ("CODESAGE_MEMORY_LIMIT", "lots", "a size such as 512MB"),
            ("CODESAGE_PARALLEL_WORKERS", "0", "a whole number from 1 to 1024"),
            ("CODESAGE_NUMA_NODE", "-3", "a whole number from 0 to 4095"),
            ("CODESAGE_CACHE_COMPRESSION", "brotli", "one of lz4, zstd, none"),
            ("CODESAGE_SOCKET_MODE", "0999", "octal file mode"),
            ("CODESAGE_SEARCH_CACHE_SIMILARITY", "2", "a number from 0.5 to 1.0"),
        ]
        for (name, value, accepted) in cases {
            do {
                _ = try Configuration(environment: [name: value], home: "/home/u", onlineCPUs: 2)
                Issue.record("\(name)=\(value) was accepted")
            } catch {
                #expect(error.code == .invalidConfiguration)
                #expect(error.message.contains(name))
                #expect(error.message.contains("\"\(value)\""))
                #expect(error.message.contains(accepted), "\(error.message)")
                #expect(!error.message.contains("\n"))
            }
        }
    }
}

@Suite("Configuration resolution")
struct ConfigurationTests {
    @Test("defaults are typed and documented")
    func defaults() throws {
        let configuration = try Configuration(environment: [:], home: "/home/u", onlineCPUs: 6)
        #expect(configuration.memoryLimitBytes == 2 << 30)
        #expect(configuration.parallelWorkers == 6)
        #expect(configuration.modelPath == "/home/u/.cache/codesage/models/all-MiniLM-L6-v2")
        #expect(configuration.numaNode == nil)
        #expect(configuration.threadAffinity == .automatic)
        #expect(configuration.socketMode == 0o600)
        #expect(configuration.authToken == nil)
        #expect(configuration.cleanupThreshold == 0.90)
        #expect(configuration.settings.count == SettingCatalog.all.count)
        #expect(configuration.settings.allSatisfy { $0.source == .defaultValue })
        for spec in SettingCatalog.all {
            #expect(!spec.summary.isEmpty, "\(spec.name) has no summary")
            #expect(spec.defaultText != nil || spec.defaultNote != nil, "\(spec.name) has neither a default nor a note")
        }
    }

    @Test("flag beats environment beats env file beats default")
    func precedence() throws {
        let file = try EnvFile(path: "p.env", text: """
            CODESAGE_MEMORY_LIMIT=1GB
            CODESAGE_LOG_LEVEL=debug
            CODESAGE_FILE_CACHE_SIZE=7
            """)
        let configuration = try Configuration(
            environment: ["CODESAGE_MEMORY_LIMIT": "768MB", "CODESAGE_LOG_LEVEL": "error", "PATH": "/bin"],
            envFile: file, flags: ["CODESAGE_LOG_LEVEL": "warning"], home: nil, onlineCPUs: 1)
        #expect(configuration.logLevel == "warning")
        #expect(configuration.setting("CODESAGE_LOG_LEVEL").source == .flag)
        #expect(configuration.memoryLimitBytes == 768 << 20)
        #expect(configuration.setting("CODESAGE_MEMORY_LIMIT").source == .environment)
        #expect(configuration.fileCacheSize == 7)
        #expect(configuration.setting("CODESAGE_FILE_CACHE_SIZE").source == .envFile("p.env"))
        #expect(configuration.setting("CODESAGE_SEARCH_CACHE_SIZE").source == .defaultValue)
    }

    @Test("unknown CODESAGE_ variables are reported, internal ones are not")
    func unknownNames() throws {
        let configuration = try Configuration(
            environment: ["CODESAGE_MEMORY_LIMT": "1GB", "CODESAGE_WORKER_SLOT": "1", "HOME": "/"], home: nil, onlineCPUs: 1)
        #expect(configuration.unknownEnvironmentNames == ["CODESAGE_MEMORY_LIMT"])
    }

    @Test("the seed documentation's CODESAGE_INDEX_COMPRESSION=zstd is accepted")
    func zstdAlias() throws {
        let configuration = try Configuration(environment: ["CODESAGE_INDEX_COMPRESSION": "zstd"], home: nil, onlineCPUs: 1)
        #expect(configuration.indexCompression == .zstd)
    }

    @Test("secrets are never shown")
    func secrets() throws {
        let configuration = try Configuration(environment: ["CODESAGE_AUTH_TOKEN": "s3cret"], home: nil, onlineCPUs: 1)
        #expect(configuration.authToken == "s3cret")
        #expect(!ConfigurationReport(configuration).json().contains("s3cret"))
        #expect(!ConfigurationReport(configuration).table().contains("s3cret"))
    }
}

@Suite("Env files")
struct EnvFileTests {
    @Test("comments, export, quotes")
    func syntax() throws {
        let file = try EnvFile(path: "x.env", text: """
            # a comment

            export CODESAGE_MEMORY_LIMIT="512MB"
            CODESAGE_LOG_LEVEL = 'debug'
            """)
        #expect(file.values == ["CODESAGE_MEMORY_LIMIT": "512MB", "CODESAGE_LOG_LEVEL": "debug"])
    }

    @Test("malformed lines and unknown keys name the file and line")
    func errors() {
        #expect { try EnvFile(path: "bad.env", text: "CODESAGE_LOG_LEVEL=info\njust words") } throws: { error in
            (error as? CodeSageError)?.message.hasPrefix("bad.env:2:") == true
        }
        #expect { try EnvFile(path: "bad.env", text: "CODESAGE_NOPE=1") } throws: { error in
            (error as? CodeSageError)?.message.contains("unknown setting") == true
        }
    }

    @Test("the shipped profiles parse and resolve", arguments: ["development", "production", "memory-constrained"])
    func shippedProfiles(name: String) throws {
        let root = String(#filePath.split(separator: "/Tests/").first!)
        let path = "\(root)/config/\(name).env"
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let file = try EnvFile(path: path, text: text)
        #expect(file.values.count >= 5, "profile \(name) sets too little")
        let configuration = try Configuration(environment: [:], envFile: file, home: "/h", onlineCPUs: 4)
        #expect(configuration.settings.contains { $0.source == .envFile(path) })
    }
}
