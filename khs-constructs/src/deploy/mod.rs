//! Deploying synthesized stacks with CloudFormation change sets, without
//! losing data.
//!
//! The planning half is plain functions over JSON templates and change-set
//! rows, always compiled and tested offline:
//! - [`diff`]: the resource-by-resource template diff with replacement
//!   predicted from the registry schemas' create-only properties, following
//!   references to replaced resources and changed parameters;
//! - [`changeset`]: change-set rows in the shape CloudFormation returns them,
//!   merged with the prediction into a plan;
//! - [`guard`]: the data-loss guard (stateful replacements and deletions are
//!   refused unless allowed by logical id, renamed constructs are spotted)
//!   and the approval of security-broadening changes ([`security`]).
//!
//! The client half talks to CloudFormation through the AWS SDK for Rust and
//! is compiled only with the `deploy` cargo feature: `client` (change
//! sets, events, stack policy) and `cli` (the `diff` / `deploy` / `destroy`
//! / `status` / `watch` command line that an app's binary runs with one
//! call, `cli::run(&app, std::env::args_os())`).

pub mod changeset;
#[cfg(feature = "deploy")]
pub mod cli;
#[cfg(feature = "deploy")]
pub mod client;
pub mod diff;
pub mod events;
pub mod guard;
pub mod params;
pub mod security;
mod specs;
