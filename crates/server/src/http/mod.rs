//! The shared HTTP kit: what every API family needs from a request before its own
//! decoding (a bounded body, text free of control characters, resources that answer 405
//! with `Allow` and serve `HEAD`), and the family-neutral failures it reports. Each family
//! renders a [`HttpError`] in its own envelope through its one error mapper.

pub mod body;
pub mod credentials;
pub mod error;
pub mod media;
pub mod params;
pub mod route;
pub mod text;

/// A failure the kit detects before a family's own rules run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HttpError {
    /// The body is larger than [`body::MAX_BODY_BYTES`] (413).
    #[error("request body too large")]
    PayloadTooLarge,
    /// The body did not arrive within the body time limit (408; the connection is closed).
    #[error("request body not received in time")]
    BodyTimeout,
    /// The connection failed while the body was read.
    #[error("request body could not be read")]
    BodyUnreadable,
    /// The resource exists but does not serve this method (405, with `Allow`).
    #[error("method not allowed")]
    MethodNotAllowed,
    /// No resource has this path (404).
    #[error("path not found")]
    PathNotFound,
}
