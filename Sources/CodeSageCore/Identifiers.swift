/// An integer that names one kind of thing, so that a pid, a generation and a count can't be mixed up.
public protocol TypedIdentifier: RawRepresentable, Hashable, Sendable, Comparable, CustomStringConvertible
    where RawValue: BinaryInteger & Sendable {
    init(rawValue: RawValue)
}

extension TypedIdentifier {
    /// The identifier with this raw value.
    public init(_ rawValue: RawValue) { self.init(rawValue: rawValue) }
    public var description: String { String(rawValue) }
    public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }
}

/// A process id: what `posix_spawn` returned, what `waitpid` reports, what a worker writes in its slot.
public struct ProcessID: TypedIdentifier {
    public let rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }
}

/// A published index generation (the manifest's counter; 0 before the first run publishes).
public struct Generation: TypedIdentifier {
    public let rawValue: Int64
    public init(rawValue: Int64) { self.rawValue = rawValue }
}
