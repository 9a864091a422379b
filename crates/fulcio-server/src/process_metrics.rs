//! The Prometheus process collector's standard series (`process_cpu_seconds_total`,
//! `process_resident_memory_bytes`, …), read from `/proc` at scrape time. Upstream exposes them
//! through client_golang; on systems without `/proc` nothing is added.

use std::fmt::Write as _;

/// `/proc` reports CPU times in USER_HZ ticks, which Linux fixes at 100 for user space.
const TICKS_PER_SECOND: f64 = 100.0;

/// Appends the process series that could be read to `out`.
pub fn render_into(out: &mut String) {
    let stat = std::fs::read_to_string("/proc/self/stat").ok();
    let fields = stat.as_deref().and_then(stat_fields_after_comm);
    if let Some(fields) = &fields {
        // utime and stime are fields 14 and 15 of stat(5); `fields` starts at field 3.
        let ticks = field_f64(fields, 14)
            .zip(field_f64(fields, 15))
            .map(|(u, s)| u + s);
        if let Some(ticks) = ticks {
            series(
                out,
                "process_cpu_seconds_total",
                "counter",
                "Total user and system CPU time spent in seconds.",
                ticks / TICKS_PER_SECOND,
            );
        }
    }
    if let Ok(status) = std::fs::read_to_string("/proc/self/status") {
        if let Some(kib) = status_kib(&status, "VmRSS:") {
            series(
                out,
                "process_resident_memory_bytes",
                "gauge",
                "Resident memory size in bytes.",
                kib * 1024.0,
            );
        }
        if let Some(kib) = status_kib(&status, "VmSize:") {
            series(
                out,
                "process_virtual_memory_bytes",
                "gauge",
                "Virtual memory size in bytes.",
                kib * 1024.0,
            );
        }
    }
    if let Ok(entries) = std::fs::read_dir("/proc/self/fd") {
        series(
            out,
            "process_open_fds",
            "gauge",
            "Number of open file descriptors.",
            entries.count() as f64,
        );
    }
    if let Some(max) = std::fs::read_to_string("/proc/self/limits")
        .ok()
        .as_deref()
        .and_then(max_open_files)
    {
        series(
            out,
            "process_max_fds",
            "gauge",
            "Maximum number of open file descriptors.",
            max,
        );
    }
    let boot_time = std::fs::read_to_string("/proc/stat")
        .ok()
        .as_deref()
        .and_then(boot_time_seconds);
    if let (Some(fields), Some(boot)) = (&fields, boot_time)
        && let Some(start_ticks) = field_f64(fields, 22)
    {
        series(
            out,
            "process_start_time_seconds",
            "gauge",
            "Start time of the process since unix epoch in seconds.",
            boot + start_ticks / TICKS_PER_SECOND,
        );
    }
}

fn series(out: &mut String, name: &str, kind: &str, help: &str, value: f64) {
    // Writing to a String cannot fail.
    let _ = write!(
        out,
        "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}\n\n"
    );
}

/// The fields of `/proc/self/stat` after the parenthesised command name (which may itself
/// contain spaces and parentheses), so index 0 is field 3 of stat(5).
fn stat_fields_after_comm(stat: &str) -> Option<Vec<&str>> {
    let rest = &stat[stat.rfind(')')? + 1..];
    Some(rest.split_whitespace().collect())
}

/// Field `n` (1-based, as numbered in stat(5)) from the fields after the command name.
fn field_f64(fields: &[&str], n: usize) -> Option<f64> {
    fields.get(n.checked_sub(3)?)?.parse().ok()
}

fn status_kib(status: &str, key: &str) -> Option<f64> {
    let line = status.lines().find(|l| l.starts_with(key))?;
    line[key.len()..].split_whitespace().next()?.parse().ok()
}

fn max_open_files(limits: &str) -> Option<f64> {
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line["Max open files".len()..]
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

fn boot_time_seconds(proc_stat: &str) -> Option<f64> {
    proc_stat
        .lines()
        .find_map(|l| l.strip_prefix("btime "))?
        .trim()
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_parsing_survives_odd_command_names() {
        let stat = "42 (a) b (c)) S 1 2 3 4 5 6 7 8 9 10 250 50 0 0 20 0 1 0 1000 0 0";
        let fields = stat_fields_after_comm(stat).unwrap_or_default();
        assert_eq!(field_f64(&fields, 3), None); // "S" is not a number
        assert_eq!(field_f64(&fields, 14), Some(250.0));
        assert_eq!(field_f64(&fields, 15), Some(50.0));
        assert_eq!(field_f64(&fields, 22), Some(1000.0));
    }

    #[test]
    fn status_and_limits_parsing() {
        assert_eq!(
            status_kib("Name:\tx\nVmRSS:\t  1234 kB\n", "VmRSS:"),
            Some(1234.0)
        );
        assert_eq!(
            max_open_files("Limit  Soft Hard Units\nMax open files            1024  4096  files\n"),
            Some(1024.0)
        );
        assert_eq!(
            boot_time_seconds("cpu 1 2\nbtime 1700000000\n"),
            Some(1_700_000_000.0)
        );
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn renders_resident_memory_on_linux() {
        let mut out = String::new();
        render_into(&mut out);
        assert!(out.contains(
            "# TYPE process_resident_memory_bytes gauge\nprocess_resident_memory_bytes "
        ));
        assert!(out.contains("# TYPE process_cpu_seconds_total counter"));
    }
}
