/// Recognises test files by the conventions of common languages and frameworks.
public enum TestPaths {
    /// Folder names that hold tests.
    static let folders: Set<Substring> = ["test", "tests", "testing", "__tests__", "spec", "specs", "testdata", "e2e"]

    /// Whether `path` (relative, "/"-separated) is a test file: inside a test folder, or named like
    /// one (`test_x.py`, `x_test.py`, `x_test.go`, `x.test.ts`, `x.spec.js`, `XTest.java`,
    /// `XTests.swift`, `conftest.py`).
    public static func isTest(_ path: String) -> Bool {
        let components = path.split(separator: "/")
        guard let name = components.last else { return false }
        if components.dropLast().contains(where: { folders.contains($0.lowercased()[...]) }) { return true }
        let stem = name.split(separator: ".").first ?? name
        let lower = stem.lowercased()
        if lower.hasPrefix("test_") || lower.hasSuffix("_test") || lower.hasSuffix("_tests") || lower == "conftest" { return true }
        if name.contains(".test.") || name.contains(".spec.") || name.contains("_spec.") { return true }
        if stem.hasSuffix("Test") || stem.hasSuffix("Tests") || stem.hasSuffix("Spec") { return true }
        return false
    }
}
