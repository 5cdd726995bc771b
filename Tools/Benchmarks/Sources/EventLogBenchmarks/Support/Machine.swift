#if canImport(Glibc)
import Glibc
#else
#error("EventLog builds on Linux only: it calls fdatasync(2), sync_file_range(2) and Glibc directly.")
#endif

/// Facts about the machine the benchmark runs on, printed with the results.
enum Machine {
    /// Online processors (`sysconf(_SC_NPROCESSORS_ONLN)`).
    static let cores: Int = max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))

    /// Physical memory in bytes.
    static var memoryBytes: Int64 {
        Int64(sysconf(Int32(_SC_PHYS_PAGES))) * Int64(sysconf(Int32(_SC_PAGESIZE)))
    }

    /// Free bytes for an unprivileged writer on the file system holding `path` (`statvfs(3)`).
    static func availableBytes(at path: String) -> Int64 {
        var s = statvfs()
        guard statvfs(path, &s) == 0 else { return 0 }
        return Int64(s.f_bavail) * Int64(s.f_frsize)
    }

    /// Size in bytes of the file system holding `path`.
    static func fileSystemBytes(at path: String) -> Int64 {
        var s = statvfs()
        guard statvfs(path, &s) == 0 else { return 0 }
        return Int64(s.f_blocks) * Int64(s.f_frsize)
    }
}

extension Machine {
    /// The 1-, 5- and 15-minute load averages (`getloadavg(3)`), to show how busy the shared machine was.
    static var loadAverage: String {
        var loads = [Double](repeating: 0, count: 3)
        guard getloadavg(&loads, 3) == 3 else { return "unknown" }
        return loads.map { Units.fixed($0, 2) }.joined(separator: " ")
    }
}
