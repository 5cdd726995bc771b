#if FUZZING
import CFuzzer
import EventLogFuzzTargets
import Foundation

/// The target named by `FUZZ_TARGET`, looked up once.
let selectedTarget: FuzzTargets.Target? = ProcessInfo.processInfo.environment["FUZZ_TARGET"].flatMap { FuzzTargets.all[$0] }

/// libFuzzer's entry point: one input through the selected target.
@_cdecl("LLVMFuzzerTestOneInput")
func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = size == 0 || data == nil ? [] : Array(UnsafeBufferPointer(start: data, count: size))
    selectedTarget?(bytes)
    return 0
}

/// Hands control to libFuzzer with the process's arguments (its flags and corpus directories).
func runFuzzer() -> Int32 {
    var argc = CommandLine.argc
    var argv = CommandLine.unsafeArgv
    return withUnsafeMutablePointer(to: &argv) { argvPointer in
        argvPointer.withMemoryRebound(to: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?.self, capacity: 1) { rebound in
            LLVMFuzzerRunDriver(&argc, rebound) { data, size in fuzzOneInput(data, size) }
        }
    }
}
#endif
