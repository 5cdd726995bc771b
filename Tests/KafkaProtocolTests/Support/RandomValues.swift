@testable import KafkaProtocol
import TestSupport
import Testing

/// The generator of TestSupport under the name the generated `random(version:using:)`
/// (Generated/RandomMessages.swift, which imports only KafkaProtocol) uses.
typealias SplitMix64 = TestSupport.SplitMix64

/// Random field values for the generated messages' `random(version:using:)`.
extension SplitMix64 {
    /// Extreme values often: the limits of each type find sign and width mistakes.
    private mutating func edgeOr<T: FixedWidthInteger>(_: T.Type) -> T {
        switch next() % 6 {
        case 0: T.min
        case 1: T.max
        case 2: 0
        case 3: T(truncatingIfNeeded: -1)
        default: T(truncatingIfNeeded: next())
        }
    }

    mutating func nextInt8() -> Int8 { edgeOr(Int8.self) }
    mutating func nextInt16() -> Int16 { edgeOr(Int16.self) }
    mutating func nextUInt16() -> UInt16 { edgeOr(UInt16.self) }
    mutating func nextInt32() -> Int32 { edgeOr(Int32.self) }
    mutating func nextInt64() -> Int64 { edgeOr(Int64.self) }
    mutating func nextDouble() -> Double { Double(bitPattern: next() & 0x7FEF_FFFF_FFFF_FFFF) }
    mutating func nextBool() -> Bool { next() & 1 == 1 }
    /// 0 to 3 elements.
    mutating func nextCount() -> Int { Int(next() % 4) }

    /// Up to 12 characters, some of them beyond ASCII (2-, 3- and 4-byte UTF-8).
    mutating func nextString() -> String {
        let alphabet: [Character] = ["a", "Z", "0", "-", ".", "_", " ", "é", "€", "𝄞", "ß", "t"]
        return String((0..<Int(next() % 13)).map { _ in alphabet[Int(next() % UInt64(alphabet.count))] })
    }

    /// Up to 40 arbitrary bytes.
    mutating func nextBytes() -> [UInt8] {
        (0..<Int(next() % 41)).map { _ in UInt8(truncatingIfNeeded: next()) }
    }
}

/// A generated message or struct that can make a random instance valid at a version: fields
/// absent at the version keep their defaults, `nil` only where the version allows null.
protocol RandomlyGenerated {
    static func random(version: Int16, using rng: inout SplitMix64) -> Self
}

/// One generated message type, as a test argument.
struct MessageCase: Sendable, CustomTestStringConvertible {
    let name: String
    let apiKey: KafkaAPIKey
    let versions: ClosedRange<Int16>
    /// Encodes a random instance at `version` (seeded by `seed`); returns the bytes and a
    /// function that decodes bytes and says whether the result equals the instance.
    let sample: @Sendable (_ version: Int16, _ seed: UInt64) -> (bytes: [UInt8], decodesEqual: @Sendable ([UInt8]) throws -> Bool)

    init<M: KafkaMessage & RandomlyGenerated>(_ type: M.Type) {
        name = String(describing: type)
        apiKey = M.apiKey
        versions = M.versions
        sample = { version, seed in
            var rng = SplitMix64(seed: seed)
            let value = M.random(version: version, using: &rng)
            var writer = KafkaWriter()
            value.encode(into: &writer, version: version)
            return (writer.bytes, { bytes in
                var reader = KafkaReader(bytes)
                let decoded = try M.decode(from: &reader, version: version)
                try reader.expectEnd()
                return decoded == value
            })
        }
    }

    var testDescription: String { name }
}
