#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The bytes of a record's key, value or header value.
///
/// Made from a string (its UTF-8), a `[UInt8]` (kept, not copied) or a literal:
///
/// ```swift
/// let key: RecordBytes = "order-17"
/// let value = RecordBytes(jsonBytes)
/// ```
///
/// A record read from a partition holds views into the buffer its read filled: no bytes are
/// copied and nothing is allocated per record (Docs/adr/0002-zero-copy-reads.md). A view keeps
/// that buffer alive as long as the view lives; ``copied()`` makes bytes of their own, so that
/// a record kept for long does not keep the whole read's buffer in memory.
///
/// Equality and hashing compare the bytes, whatever holds them.
public struct RecordBytes: Sendable {
    /// Where the bytes live.
    enum Storage: @unchecked Sendable {
        // @unchecked: `lent` bytes are never written while `owner` lives (the contract of
        // ``RecordBytes/init(unsafeBytes:owner:)``), and the owner is only retained and released.
        /// An array, owned (shared copy-on-write, never written through this value).
        case array([UInt8])
        /// Memory another object owns and keeps unchanged while it lives.
        case lent(owner: AnyObject, base: UnsafeRawPointer)
    }

    let storage: Storage
    /// Where the bytes start in the storage.
    let start: Int
    /// How many bytes there are.
    public let count: Int

    /// No bytes.
    public init() {
        self.init([])
    }

    /// The bytes of an array, kept as they are (arrays are copy-on-write: nothing is copied).
    public init(_ bytes: [UInt8]) {
        storage = .array(bytes)
        start = 0
        count = bytes.count
    }

    /// The UTF-8 bytes of a string.
    public init(_ text: some StringProtocol) {
        self.init(Array(text.utf8))
    }

    /// Bytes of `array` from `start`, `count` long: a view, nothing copied.
    init(_ array: [UInt8], start: Int, count: Int) {
        precondition(start >= 0 && count >= 0 && start + count <= array.count, "a view inside its array")
        storage = .array(array)
        self.start = start
        self.count = count
    }

    /// Bytes of a read's buffer from `start`, `count` long: a view, nothing copied.
    @usableFromInline
    init(_ buffer: ReadBuffer, start: Int, count: Int) {
        precondition(start >= 0 && count >= 0 && start + count <= buffer.capacity, "a view inside its buffer")
        storage = .lent(owner: buffer, base: UnsafeRawPointer(buffer.base))
        self.start = start
        self.count = count
    }

    /// Bytes another object owns, without copying them.
    ///
    /// For a server that keeps request bodies in its own buffers (SwiftNIO's `ByteBuffer`: pass
    /// the storage object of `withUnsafeReadableBytesWithStorageManagement`): the record then
    /// points at the body, and appending it copies the bytes once, into the batch.
    ///
    /// - Parameters:
    ///   - bytes: the bytes; they must stay valid and unchanged for as long as `owner` lives.
    ///   - owner: the object whose lifetime keeps `bytes` valid; retained by this value.
    public init(unsafeBytes bytes: UnsafeRawBufferPointer, owner: AnyObject) {
        storage = bytes.baseAddress.map { .lent(owner: owner, base: $0) } ?? .array([])
        start = 0
        count = bytes.baseAddress == nil ? 0 : bytes.count
    }

    /// Calls `body` with the bytes, in place.
    public func withUnsafeBytes<R, E: Error>(_ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R {
        switch storage {
        case .array(let array):
            let result: Result<R, E> = array.withUnsafeBytes { raw in
                do throws(E) {
                    return .success(try body(UnsafeRawBufferPointer(rebasing: raw[start..<start + count])))
                } catch {
                    return .failure(error)
                }
            }
            return try result.get()
        case .lent(let owner, let base):
            return try withExtendedLifetime(owner) { () throws(E) -> R in
                try body(UnsafeRawBufferPointer(start: base + start, count: count))
            }
        }
    }

    /// The same bytes in an array of their own: keeping the copy does not keep the buffer of
    /// the read (or the request) they came from.
    public func copied() -> RecordBytes {
        RecordBytes(Array(self))
    }
}

extension RecordBytes: RandomAccessCollection {
    public typealias Index = Int
    public var startIndex: Int { 0 }
    public var endIndex: Int { count }

    public subscript(position: Int) -> UInt8 {
        precondition(position >= 0 && position < count, "index \(position) out of 0..<\(count)")
        switch storage {
        case .array(let array): return array[start + position]
        case .lent(let owner, let base):
            return withExtendedLifetime(owner) { base.load(fromByteOffset: start + position, as: UInt8.self) }
        }
    }

    public func withContiguousStorageIfAvailable<R>(_ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R? {
        switch storage {
        case .array(let array):
            return try array.withUnsafeBufferPointer { try body(UnsafeBufferPointer(rebasing: $0[start..<start + count])) }
        case .lent(let owner, let base):
            return try withExtendedLifetime(owner) {
                try body(UnsafeBufferPointer(start: (base + start).assumingMemoryBound(to: UInt8.self), count: count))
            }
        }
    }
}

extension RecordBytes: Hashable {
    public static func == (lhs: RecordBytes, rhs: RecordBytes) -> Bool {
        guard lhs.count == rhs.count else { return false }
        return lhs.withUnsafeBytes { a in
            rhs.withUnsafeBytes { b in
                a.count == 0 || memcmp(a.baseAddress!, b.baseAddress!, a.count) == 0
            }
        }
    }

    public func hash(into hasher: inout Hasher) {
        withUnsafeBytes { hasher.combine(bytes: $0) }
    }
}

extension RecordBytes: ExpressibleByStringInterpolation, ExpressibleByArrayLiteral {
    /// The UTF-8 bytes of a string literal: `let key: RecordBytes = "order-17"`.
    public init(stringLiteral value: String) {
        self.init(Array(value.utf8))
    }

    /// The UTF-8 bytes of an interpolated string literal: `"order-\(id)"`.
    public init(stringInterpolation: DefaultStringInterpolation) {
        self.init(String(stringInterpolation: stringInterpolation))
    }

    /// Bytes given one by one: `[0xFF, 0x00]`.
    public init(arrayLiteral elements: UInt8...) {
        self.init(elements)
    }
}

extension RecordBytes: CustomStringConvertible, CustomDebugStringConvertible {
    /// The bytes as text when they are UTF-8, else as hexadecimal (`0xfffe00`).
    public var description: String {
        if let text = String(validating: self, as: UTF8.self) { return text }
        let digits: [UInt8] = Array("0123456789abcdef".utf8)
        var hex: [UInt8] = Array("0x".utf8)
        for byte in self {
            hex.append(digits[Int(byte >> 4)])
            hex.append(digits[Int(byte & 0xF)])
        }
        return String(decoding: hex, as: UTF8.self)
    }

    public var debugDescription: String { "RecordBytes(\(count) bytes: \(description))" }
}

/// A type whose values become record bytes: `String` and `Substring` (their UTF-8), `[UInt8]`
/// and ``RecordBytes``. Conform your own (Foundation's `Data`, say) to pass it to ``Record``.
public protocol RecordBytesConvertible {
    /// The bytes this value stands for.
    var recordBytes: RecordBytes { get }
}

extension RecordBytes: RecordBytesConvertible {
    public var recordBytes: RecordBytes { self }
}

extension String: RecordBytesConvertible {
    /// The string's UTF-8.
    public var recordBytes: RecordBytes { RecordBytes(self) }
}

extension Substring: RecordBytesConvertible {
    /// The substring's UTF-8.
    public var recordBytes: RecordBytes { RecordBytes(self) }
}

extension Array: RecordBytesConvertible where Element == UInt8 {
    /// The array itself (not copied).
    public var recordBytes: RecordBytes { RecordBytes(self) }
}
