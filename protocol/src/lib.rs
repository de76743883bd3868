//! The peer protocol's shared parts: everything a worker and the viewer must agree on
//! lives here once, so that neither side can drift from the other.

pub mod auth;
pub mod policy;
pub mod status;
pub mod vocab;
