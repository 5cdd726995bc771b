// eventlog-fuzz: libFuzzer over the targets of EventLogFuzzTargets (see Tools/fuzz/README.md).
//
//   FUZZ_TARGET=record-batch eventlog-fuzz [libFuzzer flags] CORPUS_DIR...   (built with -DFUZZING)
//   eventlog-fuzz replay TARGET FILE...                                       (any build)
//   eventlog-fuzz seed DIR                                                    (writes a seed corpus)
//   eventlog-fuzz list
import EventLogFuzzTargets
import Foundation

let arguments = Array(CommandLine.arguments.dropFirst())
if arguments.first == "seed", arguments.count == 2 {
    try FuzzTargets.writeSeeds(to: arguments[1])
    exit(0)
}
if arguments.first == "list" {
    for name in FuzzTargets.all.keys.sorted() { print(name) }
    exit(0)
}
if arguments.first == "replay", arguments.count >= 2 {
    guard let target = FuzzTargets.all[arguments[1]] else {
        FileHandle.standardError.write(Data("eventlog-fuzz: no target named \(arguments[1]); see `eventlog-fuzz list`.\n".utf8))
        exit(2)
    }
    for path in arguments.dropFirst(2) {
        guard let data = FileManager.default.contents(atPath: path) else { continue }
        target(Array(data))
    }
    print("replayed \(arguments.count - 2) inputs through \(arguments[1])")
    exit(0)
}

#if FUZZING
guard selectedTarget != nil else {
    FileHandle.standardError.write(Data("eventlog-fuzz: set FUZZ_TARGET to one of: \(FuzzTargets.all.keys.sorted().joined(separator: ", "))\n".utf8))
    exit(2)
}
exit(runFuzzer())
#else
FileHandle.standardError.write(Data("eventlog-fuzz: this build has no fuzzer; build it with `make fuzz`, or use `replay`.\n".utf8))
exit(2)
#endif
