/// Errors raised while loading or checking a model.
public enum EmbeddingError: Error, Equatable, CustomStringConvertible, Sendable {
    /// A file could not be opened, read, mapped or written.
    case io(String)
    /// A safetensors file's header is malformed.
    case corruptSafetensors(String)
    /// A configuration file is missing a field or has an unsupported value.
    case invalidConfig(String)
    /// A tensor is missing or does not have the name, dtype or shape the config implies.
    case tensorMismatch(String)
    /// A quantised-weights file is malformed or does not match the model.
    case corruptQuantizedFile(String)

    /// The human-readable message.
    public var description: String {
        switch self {
        case .io(let m), .corruptSafetensors(let m), .invalidConfig(let m),
             .tensorMismatch(let m), .corruptQuantizedFile(let m):
            return m
        }
    }
}
