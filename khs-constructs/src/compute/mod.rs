//! Compute: ECS Fargate services and their autoscaling.

pub mod api_service;
pub mod autoscaling;

pub use api_service::*;
pub use autoscaling::*;
