//! The Keyrock IdM domain: API tokens, users, and (later) applications, organizations,
//! roles, permissions and assignments. Plain functions over a connection (or the pool,
//! where a password is hashed and no connection should be held meanwhile) and `now`.
//!
//! Error values carry Keyrock's exact message strings, because clients match on them;
//! the HTTP status and envelope are chosen by the server's one Keyrock error mapper.

pub mod applications;
pub mod assignments;
pub mod authz;
pub mod caller;
mod error;
pub mod import;
pub mod input;
pub mod iot_agents;
pub mod oauth;
pub mod organizations;
pub mod pep_proxies;
pub mod permissions;
pub mod roles;
pub mod service_providers;
#[cfg(test)]
mod test_support;
pub mod tokens;
pub mod trusted_applications;
pub mod users;
pub mod validate;
pub mod vocabulary;

pub use error::KeyrockError;
pub use input::Given;
