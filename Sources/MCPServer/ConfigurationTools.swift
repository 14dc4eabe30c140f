import CodeSageCore
import MCP

/// The get_configuration tool: every setting with its value and source.
public enum ConfigurationTools {
    /// Builds the tool over a resolved configuration.
    public static func getConfiguration(_ configuration: Configuration) -> ToolDefinition {
        let report = ConfigurationReport(configuration)
        return ToolDefinition(
            name: "get_configuration",
            description: "Show every CODESAGE_* setting of this server with its value and where it came from (default, environment, env file or flag). Optional `name` returns one setting.",
            inputSchema: .object([
                "type": "object",
                "properties": .object([
                    "name": .object(["type": "string", "description": "A setting name such as CODESAGE_MEMORY_LIMIT."]),
                ]),
                "additionalProperties": false,
            ])
        ) { arguments in
            let args = ToolArguments(arguments, tool: "get_configuration")
            try args.rejectUnknown(allowed: ["name"])
            var rows = report.settings
            if let name = try args.string("name") {
                rows = rows.filter { $0.name == name }
                if rows.isEmpty { throw CodeSageError(.invalidArgument, "argument \"name\": no setting called \(name)") }
            }
            let text = rows.map { "\($0.name)=\($0.value) (\($0.source))" }.joined(separator: "\n")
            let structured = Value.object(["settings": .array(rows.map { row in
                .object(["name": .string(row.name), "value": .string(row.value),
                         "source": .string(row.source), "summary": .string(row.summary)])
            })])
            return ToolOutput(text: text, structured: structured)
        }
    }
}
