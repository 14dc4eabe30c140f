// In a libFuzzer build (scripts/fuzz: -sanitize=fuzzer -DCODESAGE_FUZZ) main hands over to libFuzzer's
// driver (SwiftPM renames an executable's main, so libFuzzer's own main cannot be used). In a normal
// build this is the replay runner: it feeds every file under the given folders through its target
// (the folder name), so the seed corpus and every crash ever found run as regression tests in scripts/test
// without libFuzzer.
import Foundation

#if !CODESAGE_FUZZ

@main
enum ReplayMain {
    static func main() {
        let arguments = CommandLine.arguments.dropFirst()
        guard arguments.first == "replay", arguments.count >= 2 else {
            FileHandle.standardError.write(Data("usage: codesage-fuzz replay CORPUS_FOLDER... (each folder named after its target: \(FuzzTargets.names.joined(separator: ", ")))\n".utf8))
            exit(64)
        }
        var replayed = 0
        for folder in arguments.dropFirst() {
            let target = URL(fileURLWithPath: folder).lastPathComponent
            guard FuzzTargets.names.contains(target) else {
                FileHandle.standardError.write(Data("\(folder): not a target's corpus folder\n".utf8))
                exit(64)
            }
            let files = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
            for name in files.sorted() {
                guard let data = FileManager.default.contents(atPath: folder + "/" + name) else { continue }
                _ = FuzzTargets.run(target, Array(data))
                replayed += 1
            }
        }
        print("replayed \(replayed) inputs without a crash")
    }
}
#endif
