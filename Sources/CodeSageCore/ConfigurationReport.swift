import Foundation

/// The rows `codesage config` and the get_configuration tool show: name, value, source, meaning.
public struct ConfigurationReport: Sendable, Codable, Equatable {
    /// One setting as shown.
    public struct Row: Sendable, Codable, Equatable {
        public let name: String
        public let value: String
        public let source: String
        public let summary: String
    }

    /// Every setting, in catalog order.
    public let settings: [Row]

    /// Builds the report of `configuration`.
    public init(_ configuration: Configuration) {
        settings = configuration.settings.map {
            Row(name: $0.spec.name, value: $0.display, source: $0.source.description, summary: $0.spec.summary)
        }
    }

    /// Pretty-printed, key-sorted JSON.
    public func json() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        // Encoding plain strings cannot fail.
        return String(decoding: try! encoder.encode(self), as: UTF8.self)
    }

    /// An aligned table: NAME  VALUE  SOURCE.
    public func table() -> String {
        let nameWidth = settings.map(\.name.count).max() ?? 0
        let valueWidth = min(48, settings.map(\.value.count).max() ?? 0)
        func pad(_ text: String, _ width: Int) -> String { text + String(repeating: " ", count: max(0, width - text.count)) }
        var lines = [pad("SETTING", nameWidth) + "  " + pad("VALUE", valueWidth) + "  SOURCE"]
        for row in settings {
            lines.append(pad(row.name, nameWidth) + "  " + pad(row.value, valueWidth) + "  " + row.source)
        }
        return lines.joined(separator: "\n")
    }
}
