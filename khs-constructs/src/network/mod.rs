//! Networking: the VPC ([`Network`]), security-group wiring ([`Connections`]), DNS records and certificates.

pub mod connections;
pub mod dns;
pub mod vpc;

pub use connections::*;
pub use dns::*;
pub use vpc::*;
