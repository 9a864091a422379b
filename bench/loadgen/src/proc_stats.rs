//! A process's CPU time and memory from Linux `/proc`.

use std::time::Duration;

/// One reading of a process's counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProcSample {
    /// User + system CPU time so far.
    pub cpu: Duration,
    /// Resident set size now, bytes.
    pub rss_bytes: u64,
    /// Peak resident set size since start (`VmHWM`), bytes.
    pub peak_rss_bytes: u64,
}

/// Clock ticks per second for `/proc/<pid>/stat` times: `getconf CLK_TCK`, else Linux's 100.
pub fn clock_ticks() -> u64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .filter(|&t| t > 0)
        .unwrap_or(100)
}

/// Reads `/proc/<pid>/stat` and `/proc/<pid>/status`; `pid` "self" is this process.
pub fn sample(pid: &str, ticks_per_second: u64) -> Option<ProcSample> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let (utime, stime) = parse_stat_times(&stat)?;
    Some(ProcSample {
        cpu: Duration::from_millis((utime + stime) * 1000 / ticks_per_second.max(1)),
        rss_bytes: status_kib(&status, "VmRSS:")? * 1024,
        peak_rss_bytes: status_kib(&status, "VmHWM:")? * 1024,
    })
}

/// The sum of [`sample`] over `pids`; `None` if any cannot be read.
pub fn sample_all(pids: &[String], ticks_per_second: u64) -> Option<ProcSample> {
    if pids.is_empty() {
        return None;
    }
    pids.iter().try_fold(
        ProcSample {
            cpu: std::time::Duration::ZERO,
            rss_bytes: 0,
            peak_rss_bytes: 0,
        },
        |acc, pid| {
            let s = sample(pid, ticks_per_second)?;
            Some(ProcSample {
                cpu: acc.cpu + s.cpu,
                rss_bytes: acc.rss_bytes + s.rss_bytes,
                peak_rss_bytes: acc.peak_rss_bytes + s.peak_rss_bytes,
            })
        },
    )
}

/// User and system CPU time of a process so far, seconds, from `/proc/<pid>/stat`.
pub fn user_system(pid: &str, ticks: u64) -> Option<(f64, f64)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (utime, stime) = parse_stat_times(&stat)?;
    let t = ticks.max(1) as f64;
    Some((utime as f64 / t, stime as f64 / t))
}

/// The sum of [`user_system`] over `pids`.
pub fn user_system_all(pids: &[String], ticks: u64) -> Option<(f64, f64)> {
    if pids.is_empty() {
        return None;
    }
    pids.iter().try_fold((0.0, 0.0), |(u, s), pid| {
        let (du, ds) = user_system(pid, ticks)?;
        Some((u + du, s + ds))
    })
}

/// utime and stime (fields 14 and 15) of a stat line; the command name may contain spaces, so
/// fields are counted after its closing parenthesis.
pub fn parse_stat_times(stat: &str) -> Option<(u64, u64)> {
    let after_name = &stat[stat.rfind(')')? + 1..];
    let mut fields = after_name.split_whitespace();
    // after_name starts at field 3 (state); utime is field 14.
    let utime = fields.nth(11)?.parse().ok()?;
    let stime = fields.next()?.parse().ok()?;
    Some((utime, stime))
}

fn status_kib(status: &str, key: &str) -> Option<u64> {
    status
        .lines()
        .find_map(|l| l.strip_prefix(key))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_times_survive_spaces_in_the_name() {
        let stat = "42 (my server) S 1 42 42 0 -1 4194560 100 0 0 0 250 75 0 0 20 0 1 0 1 1 1";
        assert_eq!(parse_stat_times(stat), Some((250, 75)));
    }

    #[test]
    fn status_fields_are_kib() {
        let status = "Name:\tx\nVmHWM:\t  2048 kB\nVmRSS:\t  1024 kB\n";
        assert_eq!(status_kib(status, "VmHWM:"), Some(2048));
        assert_eq!(status_kib(status, "VmRSS:"), Some(1024));
        assert_eq!(status_kib(status, "VmSwap:"), None);
    }

    #[test]
    fn samples_add_up() {
        let one = sample("self", 100).unwrap();
        let two = sample_all(&["self".into(), "self".into()], 100).unwrap();
        assert!(two.rss_bytes >= one.rss_bytes * 2 - 1024 * 1024);
        assert!(sample_all(&[], 100).is_none());
        assert!(sample_all(&["self".into(), "0".into()], 100).is_none());
    }

    #[test]
    fn own_process_is_readable() {
        let s = sample("self", clock_ticks()).unwrap();
        assert!(s.rss_bytes > 0);
        assert!(s.peak_rss_bytes >= s.rss_bytes);
    }
}
