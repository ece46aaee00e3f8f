//! The edge: CloudFront ([`Cdn`]), WAF ([`Waf`]) and the us-east-1 placement of CloudFront's certificate and web ACL ([`Edge`]).

pub mod cdn;
pub mod placement;
pub mod waf;

pub use cdn::*;
pub use placement::*;
pub use waf::*;
