//! Helpers shared by the integration tests.

pub mod deploy_app;
pub mod moto;
