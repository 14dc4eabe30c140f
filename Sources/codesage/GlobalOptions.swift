import ArgumentParser
import CodeSageCore
import Logging
import Platform

/// Options every subcommand accepts.
struct GlobalOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("A profile of CODESAGE_* settings (KEY=VALUE lines), such as config/production.env.", valueName: "path"))
    var envFile: String?

    @Option(name: .long, help: ArgumentHelp("Log level (overrides CODESAGE_LOG_LEVEL): trace, debug, info, notice, warning, error, critical.", valueName: "level"))
    var logLevel: String?

    /// These options as arguments for a child process (a worker, an index build) of this command.
    var passedOn: [String] {
        (envFile.map { ["--env-file", $0] } ?? []) + (logLevel.map { ["--log-level", $0] } ?? [])
    }

    /// Resolves the configuration: flags, then environment, then the profile, then defaults.
    /// - Parameter flags: settings given by the subcommand's own flags, keyed by variable name.
    func loadConfiguration(flags: [String: String] = [:]) throws(CodeSageError) -> Configuration {
        var flags = flags
        if let logLevel { flags[SettingCatalog.Name.logLevel] = logLevel }
        let profile = try envFile.map { (path) throws(CodeSageError) in
            try EnvFile(path: path, text: FileSystem.readText(path))
        }
        let configuration = try Configuration(environment: ProcessInfoReader.environment(), envFile: profile, flags: flags,
                                              home: ProcessInfoReader.homeDirectory(),
                                              onlineCPUs: ProcessInfoReader.onlineCPUCount())
        CLI.bootstrapLogging(level: configuration.logLevel)
        for name in configuration.unknownEnvironmentNames {
            CLI.logger.warning("unknown setting \(name) in the environment is ignored; `codesage config` lists the known ones")
        }
        return configuration
    }
}

/// Process-wide helpers of the CLI: logging and the one place that turns errors into exit codes.
enum CLI {
    /// The CLI's logger (stderr).
    nonisolated(unsafe) static var logger = Logger(label: "codesage")
    nonisolated(unsafe) private static var loggingReady = false

    /// Sends swift-log output to stderr at `level`; safe to call more than once.
    static func bootstrapLogging(level: String) {
        let parsed = Logger.Level(rawValue: level) ?? .info
        if !loggingReady {
            LoggingSystem.bootstrap { label in
                var handler = StreamLogHandler.standardError(label: label)
                handler.logLevel = parsed
                return handler
            }
            loggingReady = true
        }
        logger = Logger(label: "codesage")
        logger.logLevel = parsed
    }

    /// Runs a command body; a CodeSageError becomes one line on stderr and its documented exit code.
    static func run(_ body: () async throws -> Void) async throws {
        do {
            try await body()
        } catch let error as CodeSageError {
            StandardStreams.writeError("codesage: error: \(error.description)")
            throw ExitCode(error.code.exitCode)
        }
    }
}
