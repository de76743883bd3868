//! The HTTP side: embedded static files ([`assets`]) and the routes ([`routes`]).

pub mod assets;
pub mod routes;

pub use routes::serve;
