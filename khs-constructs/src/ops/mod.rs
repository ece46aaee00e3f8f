//! Operations: monitoring (alarms, dashboard, tracing), budgets, recovery runbooks and schedule expressions.

pub mod budget;
pub mod monitoring;
pub mod runbook;
pub mod schedule;

pub use budget::*;
pub use monitoring::*;
pub use runbook::*;
pub use schedule::*;
