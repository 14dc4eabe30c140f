/// A process id: what `posix_spawn` returned, what `waitpid` reports, what a worker writes in its slot.
public struct ProcessID: RawRepresentable, Hashable, Sendable, Comparable, CustomStringConvertible {
    public let rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }
    public init(_ rawValue: Int32) { self.rawValue = rawValue }
    public var description: String { String(rawValue) }
    public static func < (a: ProcessID, b: ProcessID) -> Bool { a.rawValue < b.rawValue }
}

/// A published index generation (the manifest's counter; 0 before the first run publishes).
public struct Generation: RawRepresentable, Hashable, Sendable, Comparable, CustomStringConvertible {
    public let rawValue: Int64
    public init(rawValue: Int64) { self.rawValue = rawValue }
    public init(_ rawValue: Int64) { self.rawValue = rawValue }
    public var description: String { String(rawValue) }
    public static func < (a: Generation, b: Generation) -> Bool { a.rawValue < b.rawValue }
}
