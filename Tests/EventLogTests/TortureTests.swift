import Foundation
import Testing

/// The short form of the torture campaign (`make torture` runs the long one): 20 rounds of
/// the writer killed with `SIGKILL` at random moments and at named crash points, each death
/// followed by the campaign's checks (Tools/eventlog-torture/TortureCampaign.swift).
@Suite(.serialized) struct TortureTests {
    @Test(.timeLimit(.minutes(5)))
    func twentyRoundsOfKillsAndCrashPointsLoseNothing() async throws {
        let binary = KillTests.tortureBinary
        try #require(FileManager.default.isExecutableFile(atPath: binary), "build it first: swift build --product eventlog-torture (looked at \(binary))")
        let logDump = URL(fileURLWithPath: binary).deletingLastPathComponent().appendingPathComponent("log-dump").path
        try #require(FileManager.default.isExecutableFile(atPath: logDump), "build it first: swift build --product log-dump")
        try await withTemporaryDirectory { dir in
            let process = Process()
            process.executableURL = URL(fileURLWithPath: binary)
            process.arguments = ["campaign", dir + "/campaign", "--rounds", "20", "--log-dump", logDump]
            let pipe = Pipe()
            process.standardOutput = pipe
            process.standardError = pipe
            try process.run()
            let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            print(output)
            #expect(process.terminationStatus == 0, "the campaign found problems:\n\(output)")
            let summary = try #require(output.split(separator: "\n").last { $0.hasPrefix("torture: 20 rounds") })
            #expect(summary.contains("problems: 0; lost: 0"))
            // The crash points really fired: most rounds die at one.
            let deaths = summary.split(separator: ",").first { $0.contains("deaths at named crash points") }
                .flatMap { Int($0.split(separator: " ").first!) } ?? 0
            #expect(deaths >= 8, "only \(deaths) deaths at crash points: \(summary)")
        }
    }
}
