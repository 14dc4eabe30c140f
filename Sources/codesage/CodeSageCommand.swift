import ArgumentParser
import CodeSageCore

/// The `codesage` command: subcommands for every mode of the server.
@main
struct CodeSageCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "codesage",
        abstract: "Code intelligence for AI coding assistants, over the Model Context Protocol.",
        discussion: """
        Settings come from CODESAGE_* environment variables (see `codesage config`), an optional \
        --env-file profile, and flags. Logs go to stderr; stdout carries only MCP stdio and --json output.

        EXIT CODES
          0   success
          1   failure reported by the command itself (for example a failed check)
          64  invalid argument or usage
          65  corrupt data (a damaged index or model file)
          66  a needed file, folder, index or model was not found
          69  unavailable: a capability this build or machine does not have
          70  internal error (a bug) or a native library failure
          74  input/output error
          75  busy: another process holds the resource (try again)
          78  invalid configuration (a CODESAGE_* value, an env file or a flag)
        """,
        version: "0.1.0",
        subcommands: [
            ConfigCommand.self, IndexCommand.self, SearchCommand.self, EmbedCommand.self,
            CheckCommand.self, ServeCommand.self, SuperviseCommand.self, StatusCommand.self, WorkerCommand.self, TokenizeCommand.self,
        ]
    )
}
