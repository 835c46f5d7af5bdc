//! Small measuring helpers shared by the benchmarks.

/// The value at `fraction` (0.5 for the median) of samples sorted in ascending order.
pub fn percentile(sorted: &[f64], fraction: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let index = ((sorted.len() as f64 - 1.0) * fraction).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

/// A process's resident memory (VmRSS) in KiB, from /proc.
pub fn resident_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|line| line.starts_with("VmRSS:"))
        .and_then(|line| line.split_whitespace().nth(1))
        .and_then(|kib| kib.parse().ok())
}

/// The times the bot logged for each reply spent inside it (`inside_bot_us=`, see
/// `src/latency.rs`), in milliseconds and in log order, without the first `warm_up` replies.
pub fn inside_bot_ms(log: &str, warm_up: usize) -> Vec<f64> {
    log.lines()
        .filter_map(|line| line.split("inside_bot_us=").nth(1))
        .filter_map(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
        .filter_map(|digits| digits.parse::<f64>().ok())
        .map(|micros| micros / 1_000.0)
        .skip(warm_up)
        .collect()
}
