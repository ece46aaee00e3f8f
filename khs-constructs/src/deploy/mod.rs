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
//! - [`moves`]: declared renames (`khs:moved-from` resource metadata)
//!   compiled into a stack refactor and applied to the diff;
//! - [`params`]: parameter values, and the parameters filled from other
//!   stacks' outputs (`khs:parameter-sources` template metadata);
//! - [`port`]: the `CloudFormation` trait, the operations the engine uses;
//!   [`s3_port`]: the `AssetStore` trait, the S3 operations of publishing;
//! - [`bootstrap`]: the bootstrap stack (the staging bucket of file assets,
//!   made by `khs bootstrap`) and reading it back; [`assets`]: which asset
//!   goes where, checked against the bootstrap, before a change set.
//!
//! The engine half is compiled with the `deploy` cargo feature (it needs
//! tokio): `engine` sequences a deployment (status gate, drift, declared
//! moves, `forecast`, change set, guard, stack policy, execution, events,
//! termination protection) over the port; `fake` is an in-memory
//! CloudFormation that drives every branch in unit tests; `client` is the
//! port over the AWS SDK for Rust; `render` and `drift` format what the
//! engine reports; `environments` says which profile or role deploys
//! each account; `cli` parses the `diff` / `deploy` / `drift` /
//! `destroy` / `status` / `watch` / `bootstrap` command line that an app's
//! binary runs with one call, `cli::run(&app, std::env::args_os())`, and
//! renders.

pub mod assets;
pub mod bootstrap;
pub mod changeset;
#[cfg(feature = "deploy")]
pub mod cli;
#[cfg(feature = "deploy")]
pub mod client;
pub mod diff;
#[cfg(feature = "deploy")]
pub mod drift;
#[cfg(feature = "deploy")]
pub mod engine;
#[cfg(all(test, feature = "deploy"))]
mod engine_tests;
#[cfg(feature = "deploy")]
pub mod environments;
pub mod events;
#[cfg(feature = "deploy")]
pub mod fake;
#[cfg(feature = "deploy")]
pub mod forecast;
pub mod guard;
pub mod moves;
pub mod params;
pub mod port;
#[cfg(all(test, feature = "deploy"))]
mod publish_tests;
#[cfg(feature = "deploy")]
pub mod render;
#[cfg(feature = "deploy")]
mod s3;
pub mod s3_port;
pub mod security;
mod specs;
#[cfg(feature = "deploy")]
pub mod stack_set;
