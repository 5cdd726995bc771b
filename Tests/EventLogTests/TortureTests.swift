import Foundation
import TestSupport
import Testing

/// The short form of the torture campaign (`make torture` runs the long one): 20 rounds of
/// the writer killed with `SIGKILL` at random moments and at named crash points, each death
/// followed by the campaign's checks (Tools/eventlog-torture/TortureCampaign.swift).
/// About 15 s in a normal build; the limit leaves room for a sanitizer build's (TimeScale).
@Suite(.serialized) struct TortureTests {
    @Test(.timeLimit(.minutes(10)))
    func twentyRoundsOfKillsAndCrashPointsLoseNothing() async throws {
        let binary = try BuiltProduct.torture.requireBuilt()
        let logDump = try BuiltProduct.logDump.requireBuilt()
        try await withTemporaryDirectory { dir in
            let campaign = try await ProcessOutput.run(binary, ["campaign", dir + "/campaign", "--rounds", "20", "--log-dump", logDump,
                                                        "--time-scale", String(TimeScale.factor)],
                                                 mergingStandardError: true)
            let output = campaign.stdout
            print(output)
            #expect(campaign.status == 0, "the campaign found problems:\n\(output)")
            let summary = try #require(output.split(separator: "\n").last { $0.hasPrefix("torture: 20 rounds") })
            #expect(summary.contains("problems: 0; lost: 0"))
            // The crash points really fired: most rounds die at one.
            let deaths = summary.split(separator: ",").first { $0.contains("deaths at named crash points") }
                .flatMap { Int($0.split(separator: " ").first!) } ?? 0
            #expect(deaths >= 8, "only \(deaths) deaths at crash points: \(summary)")
        }
    }
}
