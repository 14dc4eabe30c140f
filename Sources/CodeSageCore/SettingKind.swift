/// The type of a setting's value, which decides how its text is parsed and what is accepted.
public enum SettingKind: Sendable, Equatable {
    /// true/false, 1/0, yes/no, on/off (any case).
    case boolean
    /// A whole number in a range.
    case integer(ClosedRange<Int>)
    /// A number with a fractional part in a range.
    case fraction(ClosedRange<Double>)
    /// A size: `512MB`, `1GB`, `64KB`, or a plain number of megabytes; at least `minimumBytes`.
    case size(minimumBytes: UInt64)
    /// One of a fixed list of words (any case).
    case choice([String])
    /// A file-system path; `~` expands to the home folder.
    case path
    /// `auto`, `none`, or a CPU list such as `0-3,8`.
    case cpuAffinity
    /// An octal file mode such as `0600`.
    case fileMode
    /// Free text shown only as `(set)` because it is a secret.
    case secret

    /// What a value of this kind may look like, for error messages.
    public var accepted: String {
        switch self {
        case .boolean: return "true, false, 1, 0, yes, no, on or off"
        case .integer(let range):
            return range.upperBound == Int.max ? "a whole number ≥ \(range.lowerBound)"
                : "a whole number from \(range.lowerBound) to \(range.upperBound)"
        case .fraction(let range): return "a number from \(range.lowerBound) to \(range.upperBound)"
        case .size(let minimum):
            return "a size such as 512MB, 1GB or 1024 (megabytes), at least \(ByteSize.format(minimum))"
        case .choice(let words): return "one of " + words.joined(separator: ", ")
        case .path: return "a path"
        case .cpuAffinity: return "auto, none, or a CPU list such as 0-3,8"
        case .fileMode: return "an octal file mode from 0000 to 0777, such as 0600"
        case .secret: return "any non-empty text"
        }
    }
}

/// A parsed setting value.
public enum SettingValue: Sendable, Equatable {
    case boolean(Bool)
    case integer(Int)
    case fraction(Double)
    case bytes(UInt64)
    case word(String)
    case path(String)
    case affinity(CPUAffinity)
    case mode(UInt32)
    case secret(String)

    /// The value as `codesage config` shows it.
    public var display: String {
        switch self {
        case .boolean(let value): return String(value)
        case .integer(let value): return String(value)
        case .fraction(let value): return String(value)
        case .bytes(let value): return ByteSize.format(value)
        case .word(let value): return value
        case .path(let value): return value
        case .affinity(let value): return value.description
        case .mode(let value): return "0" + String(value, radix: 8)
        case .secret: return "(set)"
        }
    }
}

/// How worker threads are bound to CPUs.
public enum CPUAffinity: Sendable, Equatable, CustomStringConvertible {
    /// Spread over the CPUs of the worker's NUMA node.
    case automatic
    /// No binding.
    case none
    /// Exactly these CPU numbers, ascending, without repeats.
    case cpus([Int])

    public var description: String {
        switch self {
        case .automatic: return "auto"
        case .none: return "none"
        case .cpus(let list): return CPUAffinity.compress(list)
        }
    }

    /// Parses `auto`, `none` or a list such as `0-3,8`; nil if malformed.
    public static func parse(_ text: String) -> CPUAffinity? {
        let trimmed = text.trimmingWhitespace().lowercased()
        if trimmed == "auto" { return .automatic }
        if trimmed == "none" { return CPUAffinity.none }
        var cpus = Set<Int>()
        for part in trimmed.split(separator: ",", omittingEmptySubsequences: false) {
            let bounds = part.split(separator: "-", omittingEmptySubsequences: false)
            guard (1...2).contains(bounds.count),
                  let low = Int(bounds[0]), low >= 0, low < 65_536,
                  let high = bounds.count == 2 ? Int(bounds[1]) : low, high >= low, high < 65_536
            else { return nil }
            cpus.formUnion(low...high)
        }
        return cpus.isEmpty ? nil : .cpus(cpus.sorted())
    }

    /// `[0,1,2,3,8]` → `0-3,8`.
    public static func compress(_ list: [Int]) -> String {
        var parts: [String] = []
        var index = 0
        while index < list.count {
            var end = index
            while end + 1 < list.count, list[end + 1] == list[end] + 1 { end += 1 }
            parts.append(end == index ? "\(list[index])" : "\(list[index])-\(list[end])")
            index = end + 1
        }
        return parts.joined(separator: ",")
    }
}

/// Parsing and formatting of byte sizes.
public enum ByteSize {
    /// Parses `512MB`, `1GB`, `1.5GB`, `64KB`, `2TB`, `512M`, `1GiB` or a plain number of megabytes (any case).
    public static func parse(_ text: String) -> UInt64? {
        let trimmed = text.trimmingWhitespace().uppercased()
        guard !trimmed.isEmpty else { return nil }
        let digits = trimmed.prefix { $0.isNumber || $0 == "." }
        var unit = trimmed.dropFirst(digits.count).trimmingWhitespace()
        if unit.hasSuffix("IB") { unit = String(unit.dropLast(2)) + "B" }
        let kilo = 1024.0, mega = kilo * 1024, giga = mega * 1024, tera = giga * 1024
        let multipliers: [String: Double] = [
            "": mega, "B": 1, "K": kilo, "KB": kilo, "M": mega, "MB": mega,
            "G": giga, "GB": giga, "T": tera, "TB": tera,
        ]
        guard let number = Double(digits), number.isFinite, number >= 0,
              let multiplier = multipliers[unit] else { return nil }
        let bytes = (number * multiplier).rounded()
        guard bytes < Double(UInt64.max / 2) else { return nil }
        return UInt64(bytes)
    }

    /// Formats bytes with the largest unit that divides them exactly: 1GB, 512MB, 1536KB, 100B.
    public static func format(_ bytes: UInt64) -> String {
        let units: [(UInt64, String)] = [(1 << 40, "TB"), (1 << 30, "GB"), (1 << 20, "MB"), (1 << 10, "KB")]
        for (size, name) in units where bytes >= size && bytes % size == 0 {
            return "\(bytes / size)\(name)"
        }
        return "\(bytes)B"
    }
}

extension StringProtocol {
    /// The text without leading and trailing spaces, tabs and newlines.
    public func trimmingWhitespace() -> String {
        var scalars = Substring(self)
        while let first = scalars.first, first.isWhitespace { scalars.removeFirst() }
        while let last = scalars.last, last.isWhitespace { scalars.removeLast() }
        return String(scalars)
    }
}
