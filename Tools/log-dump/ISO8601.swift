import EventLog

/// Milliseconds since the Unix epoch as ISO-8601 UTC text, without Foundation.
enum ISO8601 {
    /// `2024-11-29T16:20:00.123Z`; `nil` outside years 0...9999 (such as Kafka's -1 "no timestamp").
    static func string(milliseconds: Int64) -> String? {
        // Years 0000 to 9999.
        guard milliseconds >= -62_167_219_200_000, milliseconds <= 253_402_300_799_999 else { return nil }
        let millis = Int(milliseconds.modulo(1000))
        let seconds = (milliseconds - Int64(millis)) / 1000
        let secondOfDay = Int(seconds.modulo(86_400))
        let days = (seconds - Int64(secondOfDay)) / 86_400
        let date = CivilDate(daysSinceEpoch: days)
        let (year, month, day) = (date.year, date.month, date.day)
        return pad(year, 4) + "-" + pad(month, 2) + "-" + pad(day, 2) + "T"
            + pad(secondOfDay / 3600, 2) + ":" + pad(secondOfDay / 60 % 60, 2) + ":" + pad(secondOfDay % 60, 2)
            + "." + pad(millis, 3) + "Z"
    }

    private static func pad(_ value: Int, _ width: Int) -> String {
        let digits = String(value)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}

extension Int64 {
    /// The remainder with the sign of the divisor (always in `0 ..< divisor` for a positive one).
    fileprivate func modulo(_ divisor: Int64) -> Int64 {
        let r = self % divisor
        return r < 0 ? r + divisor : r
    }
}
