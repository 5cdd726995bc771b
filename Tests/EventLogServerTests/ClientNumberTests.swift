@testable import EventLogServer
import EventLogJSON
import Testing

@Suite("Client numbers")
struct ClientNumberTests {
    @Test("strict decimal within the range", arguments: [
        ("0", 0...Int64.max, 0 as Int64?),
        ("17", 0...Int64.max, 17),
        ("9223372036854775807", 0...Int64.max, .max),
        ("-1", -1...Int64.max, -1),
        ("-9223372036854775808", Int64.min...Int64.max, .min),
        ("10000", 1...10_000, 10_000),
    ])
    func accepts(text: String, range: ClosedRange<Int64>, expected: Int64?) {
        #expect(ClientNumber.parse(text, in: range) == expected)
    }

    @Test("everything else is nil", arguments: [
        "", "-", "+1", " 1", "1 ", "1a", "0x10", "1e3", "1.0", "007", "-0", "--1", "١",
        "9223372036854775808", "18446744073709551616", "99999999999999999999999999",
        "-9223372036854775809", "-1", "10001",
    ])
    func refuses(text: String) {
        #expect(ClientNumber.parse(text, in: 0...10_000) == nil)
    }

    @Test("a declared body length over the limit, however many digits", arguments: [
        ("4097", true), ("4096", false), ("0", false), ("0004096", false), ("00004097", true),
        ("9223372036854775807", true), ("9223372036854775808", true), ("18446744073709551615", true),
        ("99999999999999999999999999", true), ("", false), ("-1", false), ("1a", false), ("+5000", false),
    ])
    func lengthsOverTheLimit(text: String, exceeds: Bool) {
        #expect(ClientNumber.decimal(text, exceeds: 4096) == exceeds)
    }

    @Test("a negative number only where the range has them")
    func negatives() {
        #expect(ClientNumber.parse("-1", in: 0...Int64.max) == nil)
        #expect(ClientNumber.parse("-1", in: -1...(Int64.max - 1)) == -1)
        #expect(ClientNumber.parse("-2", in: -1...(Int64.max - 1)) == nil)
        #expect(ClientNumber.parse("9223372036854775807", in: -1...(Int64.max - 1)) == nil)
        #expect(ClientNumber.parse("5", in: 0...Int(10)) == 5)
    }

    @Test("JSON numbers: integer literals only", arguments: [
        (JSONValue.number("42"), 42 as Int64?),
        (.number("1.0"), nil),
        (.number("1e2"), nil),
        (.number("-0"), nil),
        (.number("9223372036854775808"), nil),
        (.string("42"), nil),
        (.null, nil),
    ])
    func json(value: JSONValue, expected: Int64?) {
        #expect(value.integer(in: 0...Int64.max) == expected)
    }

    @Test("timestamps end with the year 9999")
    func timestamps() {
        #expect(ClientNumber.parse("253402300799999", in: ClientNumber.timestamps) == 253_402_300_799_999)
        #expect(ClientNumber.parse("253402300800000", in: ClientNumber.timestamps) == nil)
    }
}

@Suite("Answers never show server paths")
struct PathRedactionTests {
    @Test(arguments: [
        ("the disk is full: pwrite on /var/lib/logd/topics/t/0/00000000000000000069.log failed (No space left on device).",
         "the disk is full: pwrite on 00000000000000000069.log failed (No space left on device)."),
        ("cannot open (/data/x/y.index)", "cannot open (y.index)"),
        ("path=/a/b/c, offset 7", "path=c, offset 7"),
        ("no path here: 3/4 of a batch", "no path here: 3/4 of a batch"),
        ("ends with /tmp/d/file", "ends with file"),
    ])
    func redacts(message: String, expected: String) {
        #expect(APIError.redactingPaths(message) == expected)
    }
}

@Suite("Token deadlines")
struct TokenDeadlineTests {
    @Test("past, near and absurd expiries")
    func clamps() {
        let now: Int64 = 1_800_000_000_000
        #expect(TokenDeadline(expiresAtSeconds: 1_700_000_000, nowMilliseconds: now).hasPassed)
        let soon = TokenDeadline(expiresAtSeconds: 1_800_000_060, nowMilliseconds: now)
        #expect(!soon.hasPassed)
        #expect(soon.capping(.seconds(15)) == .seconds(15))
        #expect(soon.capping(.seconds(600)) <= .seconds(60))
        for absurd in [1e300, .infinity, .nan, -1e300] {
            _ = TokenDeadline(expiresAtSeconds: absurd, nowMilliseconds: now)  // no trap
        }
        #expect(!TokenDeadline(expiresAtSeconds: 1e300, nowMilliseconds: now).hasPassed)
    }
}
