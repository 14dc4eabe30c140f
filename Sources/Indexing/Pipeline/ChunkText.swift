import IndexStore
import SourceModel
/// The text the model embeds for a chunk.
///
/// The reference pipeline embeds "path\ncode". We add one line naming the definition with its
/// identifier split into words ("method Context.get_current_context — get current context"):
/// MiniLM reads natural language, and camelCase names are otherwise single opaque word pieces.
public enum ChunkText {
    /// `path`, then the definition line (when there is a symbol), then the code.
    public static func forEmbedding(path: String, symbol: String?, kind: String?, code: String) -> String {
        guard let symbol, !symbol.isEmpty else { return path + "\n" + code }
        return path + "\n" + (kind.map { $0 + " " } ?? "") + symbol + " — " + words(of: symbol) + "\n" + code
    }

    /// A definition's summary, embedded beside its code: its kind, its qualified name in words and
    /// its signature ("method context get current context: def get_current_context(silent=False)").
    /// Queries phrased as descriptions match it better than the body; nil for non-definitions.
    public static func summary(symbol: String?, kind: String?, signature: String?) -> String? {
        guard let symbol, !symbol.isEmpty else { return nil }
        return (kind.map { $0 + " " } ?? "") + words(of: symbol) + ": " + (signature ?? symbol)
    }

    /// A qualified name in lower-case words: `Context.getCurrentContext` → "context get current context".
    static func words(of symbol: String) -> String {
        SearchTerms.split(Array(symbol.unicodeScalars.map { $0 == "." ? "_" : $0 })).joined(separator: " ")
    }
}
