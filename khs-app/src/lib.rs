//! The KHS CRM stacks.
