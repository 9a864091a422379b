//! The sequencer task.
