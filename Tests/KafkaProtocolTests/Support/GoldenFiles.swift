import Foundation
import KafkaProtocol
import TestSupport
import Testing

/// One captured frame of `Golden/<scenario>/<Api>-v<N>-<request|response>.bin`.
struct GoldenFrame: Sendable, CustomTestStringConvertible {
    let scenario: String
    let api: String
    let version: Int16
    let isRequest: Bool
    /// 1 for the first distinct request of its API and version in the scenario, then 2, 3.
    let index: Int
    /// The whole frame, size prefix included.
    let bytes: [UInt8]

    /// The frame without its size prefix.
    var frame: [UInt8] { Array(bytes.dropFirst(4)) }
    var apiKey: KafkaAPIKey { KafkaAPIKey.covered.first { $0.name == api }! }
    var fileName: String { "\(api)-v\(version)-\(isRequest ? "request" : "response")" + (index > 1 ? "-\(index)" : "") }
    var testDescription: String { "\(scenario)/\(fileName)" }

    static let directory = packageDirectory + "/Tests/KafkaProtocolTests/Golden"

    /// Every captured frame, in a stable order.
    static let all: [GoldenFrame] = {
        let fm = FileManager.default
        let scenarios = ((try? fm.contentsOfDirectory(atPath: directory)) ?? []).sorted()
        return scenarios.flatMap { scenario -> [GoldenFrame] in
            let names = ((try? fm.contentsOfDirectory(atPath: directory + "/" + scenario)) ?? []).filter { $0.hasSuffix(".bin") }.sorted()
            return names.compactMap { name in
                // <Api>-v<N>-<request|response>[-<k>].bin
                let parts = name.dropLast(4).split(separator: "-")
                guard parts.count == 3 || parts.count == 4, let version = Int16(parts[1].dropFirst()),
                      let data = fm.contents(atPath: directory + "/" + scenario + "/" + name) else { return nil }
                return GoldenFrame(scenario: scenario, api: String(parts[0]), version: version,
                                   isRequest: parts[2] == "request", index: parts.count == 4 ? Int(parts[3]) ?? 0 : 1,
                                   bytes: Array(data))
            }
        }
    }()

    static var requests: [GoldenFrame] { all.filter(\.isRequest) }
    static var responses: [GoldenFrame] { all.filter { !$0.isRequest } }

    /// The frame of `scenario`/`file` (without `.bin`).
    static func named(_ scenario: String, _ file: String) -> GoldenFrame {
        all.first { $0.scenario == scenario && $0.fileName == file }!
    }
}

extension KafkaRequestFrame.Decoded {
    /// The decoded request, or `nil` for the ApiVersions fallback.
    var request: KafkaRequestFrame? {
        if case .request(let r) = self { return r }
        return nil
    }
}

extension KafkaRequest {
    /// The body when it is a Produce request.
    var produce: ProduceRequest? {
        if case .produce(let p) = self { return p }
        return nil
    }
}
