public import Logging
import NIOSSL
public import ServiceLifecycle
import Synchronization
public import UnixSignals

#if canImport(Glibc)
import Glibc
#else
#error("EventLog builds on Linux only: it calls fdatasync(2), sync_file_range(2) and Glibc directly.")
#endif

/// The server's TLS certificate chain and private key, read from PEM files, and the TLS
/// context made from them, which every new connection uses.
///
/// ``reload()`` reads both files again and swaps the context in one step: connections
/// accepted afterwards present the new certificate, open ones keep the one they started with.
/// A file that cannot be read or used leaves the old context in place. `logd` reloads on
/// `SIGHUP` (``reloader(on:)``), so a renewed certificate is picked up without a restart.
///
/// The context offers ALPN `h2` then `http/1.1` and accepts TLS 1.2 and 1.3.
public final class TLSCredentials: Sendable {
    /// The PEM file of the certificate chain, the server's own certificate first.
    public let certificatePath: String
    /// The PEM file of the private key of the chain's first certificate.
    public let keyPath: String
    private let logger: Logger
    private let current: Mutex<NIOSSLContext>

    /// Reads the certificate chain and key, and makes the TLS context.
    ///
    /// - Throws: ``ConfigurationError``, one sentence naming the file at fault and why: it cannot
    ///   be read, holds no PEM certificate or key, or the key does not belong to the certificate.
    public init(certificatePath: String, keyPath: String, logger: Logger) throws(ConfigurationError) {
        self.certificatePath = certificatePath
        self.keyPath = keyPath
        self.logger = logger
        let (context, summary) = try Self.makeContext(certificatePath: certificatePath, keyPath: keyPath)
        self.current = Mutex(context)
        logger.info("TLS certificate loaded", metadata: summary)
    }

    /// The context a connection accepted now uses.
    var context: NIOSSLContext { current.withLock { $0 } }

    /// Reads both files again; on success new connections use them, on failure the old
    /// certificate stays and one error line says why.
    ///
    /// - Returns: whether the new files are in use.
    @discardableResult
    public func reload() -> Bool {
        do {
            let (context, summary) = try Self.makeContext(certificatePath: certificatePath, keyPath: keyPath)
            current.withLock { $0 = context }
            logger.notice("TLS certificate reloaded; new connections use it", metadata: summary)
            return true
        } catch {
            logger.error("TLS certificate not reloaded, the previous one stays in use: \(error.message)")
            return false
        }
    }

    /// A service that calls ``reload()`` on every signal `signals` delivers, until graceful
    /// shutdown. Make `signals` before the service group runs, so that a signal sent as soon as
    /// the server listens is already trapped (`UnixSignalsSequence(trapping: .sighup)`).
    public func reloader(on signals: UnixSignalsSequence) -> some Service {
        Reloader(credentials: self, signals: signals)
    }

    private struct Reloader: Service {
        let credentials: TLSCredentials
        let signals: UnixSignalsSequence

        func run() async throws {
            for await _ in signals.cancelOnGracefulShutdown() {
                credentials.reload()
            }
        }
    }

    /// The ALPN protocols offered, in the server's order of preference.
    static let applicationProtocols = ["h2", "http/1.1"]

    private static func makeContext(
        certificatePath: String, keyPath: String
    ) throws(ConfigurationError) -> (NIOSSLContext, Logger.Metadata) {
        let certificateBytes = try TextFile.bytes(certificatePath)
        let keyBytes = try TextFile.bytes(keyPath)
        let chain: [NIOSSLCertificate]
        do {
            chain = try NIOSSLCertificate.fromPEMBytes(certificateBytes)
        } catch {
            throw ConfigurationError("\(certificatePath) holds no readable PEM certificate (\(error)).")
        }
        guard let leaf = chain.first else {
            throw ConfigurationError("\(certificatePath) holds no PEM certificate.")
        }
        let key: NIOSSLPrivateKey
        do {
            key = try NIOSSLPrivateKey(bytes: keyBytes, format: .pem)
        } catch {
            throw ConfigurationError("\(keyPath) holds no readable PEM private key (\(error)).")
        }
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        configuration.minimumTLSVersion = .tlsv12
        configuration.applicationProtocols = applicationProtocols
        let context: NIOSSLContext
        do {
            context = try NIOSSLContext(configuration: configuration)
        } catch {
            throw ConfigurationError("the private key in \(keyPath) does not go with the certificate in \(certificatePath) (\(error)).")
        }
        let summary: Logger.Metadata = [
            "certificate": "\(certificatePath)",
            "serial": "\(leaf.serialNumber.map { hex($0) }.joined())",
            "not_after": "\(utcTime(leaf.notValidAfter))",
        ]
        return (context, summary)
    }

    private static func hex(_ byte: UInt8) -> String {
        let digits = Array("0123456789abcdef")
        return String([digits[Int(byte >> 4)], digits[Int(byte & 0xF)]])
    }

    /// `time` as `2026-12-01T12:00:00Z`.
    private static func utcTime(_ time: time_t) -> String {
        var seconds = time
        var parts = tm()
        guard gmtime_r(&seconds, &parts) != nil else { return "\(time)" }
        func two(_ n: Int32) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))T\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec))Z"
    }
}
