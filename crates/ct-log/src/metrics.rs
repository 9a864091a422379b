//! The log's metrics, recorded through the `metrics` facade: whatever recorder the embedding
//! process installs (`fulcio serve`'s Prometheus endpoint) receives them; without one they
//! cost nothing. Call [`describe`] once after installing the recorder to give them help texts,
//! and use [`PASS_ENTRIES_BUCKETS`] and [`PASS_SECONDS_BUCKETS`] for their histograms.
//!
//! One sequencing pass (sequencer module doc) records its size, the time of each phase and,
//! when it commits, the new tree size.

/// Counter: entries committed to the tree.
pub const ENTRIES_TOTAL: &str = "ct_log_entries_total";
/// Counter (label `outcome`: `committed`, `failed`): sequencing passes.
pub const PASSES_TOTAL: &str = "ct_log_passes_total";
/// Histogram: entries per sequencing pass.
pub const PASS_ENTRIES: &str = "ct_log_pass_entries";
/// Histogram (label `phase`): seconds a pass spent in each phase: `collect` (waiting for the
/// batch to fill after its first submission), `build` (tree hashing and SCT signatures, in
/// memory), `stage` (the staging bundle, durable), `commit` (the checkpoint swap in the
/// trusted state, durable), `publish` (tiles, issuers, public checkpoint, dedup index).
pub const PASS_SECONDS: &str = "ct_log_pass_seconds";
/// Gauge: the size of the committed tree.
pub const TREE_SIZE: &str = "ct_log_tree_size";
/// Counter: submissions refused because the pool was full.
pub const POOL_FULL_TOTAL: &str = "ct_log_pool_full_total";

/// Buckets for [`PASS_ENTRIES`]: powers of two up to the largest sensible batch.
pub const PASS_ENTRIES_BUCKETS: &[f64] = &[
    1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0, 1024.0, 2048.0, 4096.0,
];

/// Buckets for [`PASS_SECONDS`]: from a quarter of a millisecond (one fsync on a fast disk)
/// to seconds (a stalled disk).
pub const PASS_SECONDS_BUCKETS: &[f64] = &[
    0.00025, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];

/// Gives the log's metrics their help texts in the installed recorder.
pub fn describe() {
    use metrics::{describe_counter, describe_gauge, describe_histogram};
    describe_counter!(ENTRIES_TOTAL, "Entries committed to the CT log's tree.");
    describe_counter!(
        PASSES_TOTAL,
        "CT log sequencing passes, by outcome (committed, failed)."
    );
    describe_histogram!(PASS_ENTRIES, "Entries per CT log sequencing pass.");
    describe_histogram!(
        PASS_SECONDS,
        metrics::Unit::Seconds,
        "Seconds a CT log sequencing pass spent in each phase (collect, build, stage, commit, publish)."
    );
    describe_gauge!(TREE_SIZE, "Size of the CT log's committed tree.");
    describe_counter!(
        POOL_FULL_TOTAL,
        "Submissions the CT log refused because its pool of pending entries was full."
    );
}

/// Records how long a phase of a pass took.
pub(crate) fn phase(name: &'static str, seconds: std::time::Duration) {
    metrics::histogram!(PASS_SECONDS, "phase" => name).record(seconds.as_secs_f64());
}
