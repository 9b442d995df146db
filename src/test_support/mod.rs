//! Fakes for the boundaries with the outside world, and builders of the
//! data the pipeline passes along, for unit tests (`cfg(test)`) and the
//! benchmarks (feature `test-support`). Never imported by production code
//! (`tests/layering.rs` exempts this module in one direction only).
//!
//! * [`finding`] and [`report`] — pipeline data, graded.

mod builders;

pub use builders::{finding, report};
