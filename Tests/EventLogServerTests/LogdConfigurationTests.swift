import EventLog
@testable import EventLogServer
import Foundation
import TestSupport
import Testing

/// `logd`'s configuration: the file its `--config` names, and the ranges its settings must respect.
@Suite struct LogdConfigurationTests {
    @Test func fileLinesBecomeFlagsBeforeTheCommandLine() throws {
        let text = """
            # a comment, then a blank line

            data-dir = /var/lib/logd
            \tport=9090\t
            default-durability = interval:250\r
            no-auto-create
            gzip = true
            quiet = false
            auth-token = a=b
            auth-token = second
            """
        let arguments = try ConfigurationFile.arguments(parsing: text, path: "logd.conf")
        #expect(arguments == ["--data-dir", "/var/lib/logd", "--port", "9090", "--default-durability", "interval:250",
                              "--no-auto-create", "--gzip", "--auth-token", "a=b", "--auth-token", "second"])
    }

    @Test(arguments: [("= 5", 1), ("# ok\n = 5", 2), ("port = 1\nconfig = other.conf", 2), ("--port = 1", 1)])
    func malformedLinesNameTheFileAndLine(text: String, line: Int) {
        #expect(throws: ConfigurationError("logd.conf:\(line): expected `flag-name = value`.")) {
            try ConfigurationFile.arguments(parsing: text, path: "logd.conf")
        }
    }

    @Test func theFileComesBeforeTheCommandLineSoTheCommandLineWins() async throws {
        try await withTemporaryDirectory { dir in
            let path = dir + "/logd.conf"
            try "port = 1\nhost = ::1\n".write(toFile: path, atomically: true, encoding: .utf8)
            let expanded = try ConfigurationFile.expanding(["--port", "2", "--config", path])
            #expect(expanded == ["--port", "1", "--host", "::1", "--port", "2", "--config", path])
            #expect(try ConfigurationFile.expanding(["--port", "2"]) == ["--port", "2"])
            let missing = path + ".missing"
            #expect(throws: ConfigurationError("cannot read \(missing): No such file or directory.")) {
                try ConfigurationFile.arguments(readingFile: missing)
            }
        }
    }

    @Test func secretsAreReadWithoutTheirTrailingNewline() async throws {
        try await withTemporaryDirectory { dir in
            let path = dir + "/secret"
            let secret = String(repeating: "s", count: 40)
            try (secret + "\r\n").write(toFile: path, atomically: true, encoding: .utf8)
            #expect(try TextFile.read(path) == secret)
            let keys = try LogdConfiguration.jwtKeys(secret: nil, secretFile: path, environmentSecret: "ignored", publicKeyFile: nil)
            #expect(keys == [.hmacSHA256(secret: secret)])
            #expect(try LogdConfiguration.jwtKeys(secret: "", secretFile: nil, environmentSecret: "env", publicKeyFile: nil) == [.hmacSHA256(secret: "env")])
        }
    }

    @Test func theDefaultsAreValidAndComeFromTheLibrarysTypes() throws {
        let defaults = LogdConfiguration()
        try defaults.validate()
        #expect(defaults.store.defaultTopicConfiguration == TopicConfiguration())
        #expect(defaults.server.maxBodyBytes == LogServerConfiguration().maxBodyBytes)
        #expect(!defaults.requiresAuthentication && defaults.listensOnLoopback)
    }

    @Test func everySettingOutOfRangeNamesItsFlag() {
        func refused(_ change: (inout LogdConfiguration) -> Void) -> String? {
            var configuration = LogdConfiguration()
            change(&configuration)
            do {
                try configuration.validate()
                return nil
            } catch {
                return error.message
            }
        }
        #expect(refused { $0.port = 65536 } == "--port must be between 0 and 65535.")
        #expect(refused { $0.server.headerTimeout = .zero } == "--header-timeout-seconds must be between 1 and 3600.")
        #expect(refused { $0.server.idleTimeout = .seconds(86_401) } == "--idle-timeout-seconds must be between 1 and 86400.")
        #expect(refused { $0.server.offsetsRetention = .seconds(-60) }?.hasPrefix("--offsets-retention-minutes") == true)
        #expect(refused { $0.store.cleanerInterval = .milliseconds(-1) } == "--cleaner-interval-ms must not be negative.")
        #expect(refused { $0.store.ioThreads = 0 } == "--io-threads must be between 1 and 256.")
        #expect(refused { $0.server.maxConnections = 0 } == "--max-connections must be positive.")
        #expect(refused { $0.store.defaultTopicConfiguration.durability = .interval(.zero) }?.hasPrefix("the default topic settings") == true)
        #expect(refused { $0.server.jwtKeys = [.hmacSHA256(secret: "short")] }?.contains("32 bytes") == true)
        #expect(refused { $0.server.stuckStreamTimeout = nil; $0.server.maxConnections = nil } == nil)
        #expect(refused { $0.tlsCertificateFile = "cert.pem" } == "--tls-certificate and --tls-key go together: give both or neither.")
        #expect(refused { $0.tlsKeyFile = "key.pem" } == "--tls-certificate and --tls-key go together: give both or neither.")
        #expect(refused { $0.tlsCertificateFile = "cert.pem"; $0.tlsKeyFile = "key.pem" } == nil)
        #expect(refused { $0.server.http2MaxConcurrentStreams = 0 } == "--http2-max-concurrent-streams must be between 1 and 10000.")
    }
}

/// The default `--max-partitions` from the descriptor limit (Docs/OPERATIONS.md, Descriptors).
@Suite struct DescriptorBudgetTests {
    @Test func connectionsAndTheReserveComeFirst() {
        #expect(DescriptorLimit.partitionBudget(limit: 20_000, connections: 5_000) == (20_000 - 5_000 - 1_024) / 3)
        // Connections count for at most half the limit: the partitions always have the other half.
        #expect(DescriptorLimit.partitionBudget(limit: 20_000, connections: 11_024) == 2_992)
    }

    @Test func aConnectionLimitAboveTheDescriptorLimitLeavesPartitionsHalf() {
        // --max-streams 100000 under 65,536 descriptors: the connections cannot all exist.
        #expect(DescriptorLimit.partitionBudget(limit: 65_536, connections: 101_024) == (65_536 - 32_768 - 1_024) / 3)
        #expect(DescriptorLimit.partitionBudget(limit: 2_000, connections: 1_000_000) == 1)
    }
}
