import ArgumentParser
import CodeSageCore

/// `codesage config`: every setting, its value and where it came from.
struct ConfigCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "Show every CODESAGE_* setting with its value and source (default, environment, file, flag).")

    @OptionGroup var global: GlobalOptions

    @Flag(name: .long, help: "Print JSON on stdout.")
    var json = false

    func run() async throws {
        try await CLI.run {
            let report = ConfigurationReport(try global.loadConfiguration())
            print(json ? report.json() : report.table())
        }
    }
}
