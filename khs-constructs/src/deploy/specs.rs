//! Resource metadata for offline predictions, from the generated registry
//! (the same metadata synthesis uses, for every registry type).

use crate::cfn::registry;
use crate::core::resource::ResourceSpec;

/// The metadata of a resource type (`None` for custom resources and names
/// the pinned registry does not know).
pub fn spec(type_name: &str) -> Option<&'static ResourceSpec> {
    registry::spec(type_name)
}

/// Whether a type holds data that a replacement or deletion loses.
pub fn stateful(type_name: &str) -> bool {
    spec(type_name).is_some_and(|s| s.stateful)
}
