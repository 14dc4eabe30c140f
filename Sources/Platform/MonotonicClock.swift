#if canImport(Glibc)
import Glibc
#endif

/// CLOCK_MONOTONIC, the clock of the control block's heartbeats (the same in every process of a boot).
public enum MonotonicClock {
    /// Nanoseconds since an arbitrary point fixed at boot.
    public static func nanoseconds() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
    }
}
