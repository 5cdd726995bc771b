import EventLogFuzzTargets
import Foundation
import TestSupport
import Testing

/// Every input kept from fuzzing (`Tools/fuzz/regressions/<target>/`: the ones that once
/// crashed, hung or leaked, and the seeds of `Tools/fuzz/corpus/<target>/`) goes through its
/// target again: each must return, as it does since its fix.
@Suite struct FuzzRegressionTests {
    static let fuzzDirectory = packageDirectory + "/Tools/fuzz"

    static func inputs(_ kind: String) -> [(target: String, path: String)] {
        let root = fuzzDirectory + "/" + kind
        let targets = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
        return targets.sorted().flatMap { target in
            ((try? FileManager.default.contentsOfDirectory(atPath: root + "/" + target)) ?? []).sorted()
                .map { (target, root + "/" + target + "/" + $0) }
        }
    }

    @Test func everyTargetHasASeedCorpus() {
        let seeded = Set(Self.inputs("corpus").map(\.target))
        #expect(Set(FuzzTargets.all.keys).subtracting(seeded).isEmpty, "targets without seeds: \(Set(FuzzTargets.all.keys).subtracting(seeded).sorted())")
    }

    /// The targets are synchronous (libFuzzer calls them on its own thread) and some wait for
    /// the engine's async work, so they run here on a thread of their own: blocking a
    /// thread of the cooperative pool would starve the tasks they wait for.
    @Test func foundInputsAndSeedsReturn() async throws {
        let all = Self.inputs("regressions") + Self.inputs("corpus")
        for (target, path) in all {
            let run = try #require(FuzzTargets.all[target], "no target named \(target) for \(path)")
            let data = try #require(FileManager.default.contents(atPath: path))
            await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
                Thread.detachNewThread {
                    run(Array(data))
                    done.resume()
                }
            }
        }
    }
}
