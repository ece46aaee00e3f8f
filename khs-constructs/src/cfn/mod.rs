//! The typed CloudFormation resource layer (placeholder until generated).
