//! Operations: monitoring (alarms, dashboard, tracing), budgets and schedule expressions.

pub mod budget;
pub mod monitoring;
pub mod schedule;

pub use budget::*;
pub use monitoring::*;
pub use schedule::*;
