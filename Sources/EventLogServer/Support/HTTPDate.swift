import EventLog
import Synchronization

/// The `Date` header every answer carries (RFC 9110 §6.6.1), in the IMF-fixdate form
/// (`Tue, 01 Dec 2026 21:22:44 GMT`), made at most once a second for the whole server.
enum HTTPDate {
    private static let cache = Mutex<(second: Int64, text: String)>((-1, ""))

    /// Now, as a `Date` header's value.
    static func now() -> String {
        let second = currentTimeMilliseconds() / 1000
        return cache.withLock { cached in
            if cached.second != second { cached = (second, format(secondsSinceEpoch: second)) }
            return cached.text
        }
    }

    /// `seconds` since 1970-01-01T00:00:00Z in the IMF-fixdate form.
    static func format(secondsSinceEpoch seconds: Int64) -> String {
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = Int(seconds - days * 86_400)
        let date = CivilDate(daysSinceEpoch: days)
        let (year, month, day) = (date.year, date.month, date.day)
        // 1970-01-01 was a Thursday.
        let weekday = Int(((days % 7) + 7 + 4) % 7)
        let weekdays = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
        let time = "\(two(secondOfDay / 3600)):\(two(secondOfDay / 60 % 60)):\(two(secondOfDay % 60))"
        return "\(weekdays[weekday]), \(two(day)) \(months[month - 1]) \(year) \(time) GMT"
    }
}
