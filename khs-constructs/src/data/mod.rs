//! Data stores: PostgreSQL ([`Database`]), Redis ([`Cache`]) and AWS Backup.

pub mod backup;
pub mod cache;
pub mod database;
pub mod import;

pub use backup::*;
pub use cache::*;
pub use database::*;
pub use import::*;
