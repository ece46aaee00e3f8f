//! Compute: ECS on Fargate, in layers like the CDK's ECS patterns.
//!
//! - [`Cluster`]: shared by any number of services and scheduled tasks.
//! - [`FargateService`]: the base of every service, no load balancer.
//! - [`LoadBalancer`]: an Application Load Balancer shared by services
//!   ([`LoadBalancer::add_target`]).
//! - [`ApiService`]: the pattern FargateService + LoadBalancer with its own
//!   repository and request-count scaling.
//! - [`LoadBalancer::import`]: an existing load balancer ([`import`]).
//! - [`ScheduledTask`]: a task EventBridge Scheduler runs on a cron.
//! - [`task`]: images, repositories and the task definition they share;
//!   [`autoscaling`]: the scaling of a service.

pub mod api_service;
pub mod autoscaling;
pub mod cluster;
pub mod fargate_service;
pub mod import;
pub mod load_balancer;
pub mod scheduled_task;
pub mod task;

pub use api_service::*;
pub use autoscaling::*;
pub use cluster::*;
pub use fargate_service::*;
pub use import::*;
pub use load_balancer::*;
pub use scheduled_task::*;
pub use task::*;
