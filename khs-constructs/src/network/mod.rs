//! Networking: the VPC ([`Network`]) and its endpoints ([`VpcEndpoints`]), security-group wiring ([`Connections`]), DNS records and certificates, Route 53 health checks ([`Route53HealthCheck`]).

pub mod connections;
pub mod dns;
pub mod endpoints;
pub mod health_check;
pub mod vpc;

pub use connections::*;
pub use dns::*;
pub use endpoints::*;
pub use health_check::*;
pub use vpc::*;
