//! This process's memory, from `/proc/self/status`: shared by the benchmarks that report it.

/// `VmRSS` and `VmHWM` of this process, in bytes.
#[derive(Clone, Copy)]
pub struct Rss {
    pub current: u64,
    pub peak: u64,
}

pub fn rss() -> Rss {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let field = |name: &str| -> u64 {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .map_or(0, |kb| kb * 1024)
    };
    Rss {
        current: field("VmRSS:"),
        peak: field("VmHWM:"),
    }
}

/// Resets `VmHWM` to the current RSS; false where the kernel refuses.
pub fn reset_peak() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok() && {
        let r = rss();
        // Reset means the peak is back near the current RSS.
        r.peak <= r.current + 4 * 1024 * 1024
    }
}
