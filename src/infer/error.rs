//! The one error type of inference: a sentence for the person using the page.

use crate::bundle::BundleError;

/// Why a call failed, in words (the page shows the message as it is).
#[derive(Debug, Clone, PartialEq)]
pub struct InferError(pub String);

impl InferError {
    pub fn new(message: impl Into<String>) -> Self {
        InferError(message.into())
    }
}

impl std::fmt::Display for InferError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for InferError {}

impl From<BundleError> for InferError {
    fn from(e: BundleError) -> Self {
        InferError(e.0)
    }
}

impl From<String> for InferError {
    fn from(message: String) -> Self {
        InferError(message)
    }
}
