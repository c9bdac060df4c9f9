//! The one error type of the family, named for outcomes (the edge maps them to statuses).

use storage::{diesel, StorageError};

/// One problem with one input field; all of a command's problems are reported together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: &'static str,
    pub message: String,
}

/// Why a call of this family is refused.
#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    /// The command's fields are missing, malformed or do not resolve (every problem found).
    #[error("invalid data")]
    Invalid(Vec<FieldError>),
    /// The caller may see what is involved but may not do this.
    #[error("the caller may not do this")]
    Forbidden,
    /// The object does not exist, or the caller may not see it (or may not use the token).
    #[error("not found")]
    NotFound,
    /// A request token the caller may use is expired or already redeemed.
    #[error("the request is expired or already redeemed")]
    Gone,
    /// A stored row that does not read (written by something else).
    #[error("stored {0} does not read")]
    Corrupt(String),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl From<diesel::result::Error> for BundleError {
    fn from(e: diesel::result::Error) -> Self {
        BundleError::Storage(e.into())
    }
}

/// Collects the field errors of one command.
#[derive(Debug, Default)]
pub(crate) struct FieldErrors(Vec<FieldError>);

impl FieldErrors {
    pub(crate) fn add(&mut self, field: &'static str, message: impl Into<String>) {
        self.0.push(FieldError {
            field,
            message: message.into(),
        });
    }

    /// `Ok` when nothing was collected, else `Invalid` with everything.
    pub(crate) fn check(self) -> Result<(), BundleError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(BundleError::Invalid(self.0))
        }
    }
}

pub(crate) const REQUIRED: &str = "this field is required";
