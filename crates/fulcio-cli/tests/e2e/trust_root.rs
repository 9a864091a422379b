//! Placeholder; the owning change replaces this file.
