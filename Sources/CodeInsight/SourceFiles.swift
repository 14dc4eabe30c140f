import CodeSageCore
import SourceModel

/// A text file under a root, loaded for analysis.
struct LoadedSource {
    /// "/"-separated, relative to the root.
    var path: String
    /// From the name, else from a shebang line; nil when neither says.
    var language: Language?
    /// The decoded text.
    var text: String
}

/// Walks a root with `FileDiscovery` and loads files with `SourceText`.
enum SourceFiles {
    /// The discovered files of `root` (names only; nothing is read).
    static func discover(root: String, options: DiscoveryOptions) throws(CodeSageError) -> [DiscoveredFile] {
        try FileDiscovery.discover(root: root, options: options).files
    }

    /// Loads one discovered file; nil when it is binary, too large or unreadable.
    static func load(_ file: DiscoveredFile, root: String, options: DiscoveryOptions) -> LoadedSource? {
        guard case .text(let text, _)? = try? SourceText.load(path: join(root, file.relativePath), maxSize: options.maxFileSize, root: root) else {
            return nil
        }
        return LoadedSource(path: file.relativePath, language: file.language ?? detectShebang(text), text: text)
    }

    /// The language a shebang in the first line names.
    static func detectShebang(_ text: String) -> Language? {
        guard text.hasPrefix("#!") else { return nil }
        let firstLine = text.prefix { $0 != "\n" && $0 != "\r\n" }
        return Language.detect(shebang: firstLine)
    }

    /// `root` + "/" + `relative`, without doubling "/".
    static func join(_ root: String, _ relative: String) -> String {
        root.hasSuffix("/") ? root + relative : root + "/" + relative
    }
}
