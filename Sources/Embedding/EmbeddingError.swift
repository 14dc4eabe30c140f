import CodeSageCore

/// The failures of loading or checking a model, as `CodeSageError`s with the matching code.
///
/// A namespace of constructors, so that call sites read `throw EmbeddingError.tensorMismatch(...)`
/// while the project keeps one error type.
public enum EmbeddingError {
    /// A file could not be opened, read, mapped or written.
    public static func io(_ message: String, file: String = #fileID, line: Int = #line) -> CodeSageError {
        CodeSageError(.io, message, file: file, line: line)
    }

    /// A safetensors file's header is malformed.
    public static func corruptSafetensors(_ message: String, file: String = #fileID, line: Int = #line) -> CodeSageError {
        CodeSageError(.corruptData, message, file: file, line: line)
    }

    /// A model configuration file is missing a field or has an unsupported value.
    public static func invalidConfig(_ message: String, file: String = #fileID, line: Int = #line) -> CodeSageError {
        CodeSageError(.corruptData, message, file: file, line: line)
    }

    /// A tensor is missing or does not have the name, dtype or shape the config implies.
    public static func tensorMismatch(_ message: String, file: String = #fileID, line: Int = #line) -> CodeSageError {
        CodeSageError(.corruptData, message, file: file, line: line)
    }

    /// A quantised-weights file is malformed or does not match the model.
    public static func corruptQuantizedFile(_ message: String, file: String = #fileID, line: Int = #line) -> CodeSageError {
        CodeSageError(.corruptData, message, file: file, line: line)
    }
}
