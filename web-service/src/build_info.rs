//! Which build is running: shown on `/status` so a learner can tell the images apart.
//!
//! The Dockerfile passes its build arguments to the image as environment variables, so the
//! same binary can report the variant (distroless or scratch) of the image it was copied into.

use serde::Serialize;
use shared::config::{self, ConfigError};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BuildInfo {
    /// The crate version.
    pub version: String,
    /// `GIT_REVISION`: the commit the image was built from.
    pub revision: String,
    /// `IMAGE_VARIANT`: the Dockerfile target, such as `runtime-scratch`.
    pub variant: String,
    /// `BUILD_DATE`: when the image was built.
    pub built: String,
}

impl BuildInfo {
    pub fn from_env() -> Result<Self, ConfigError> {
        Ok(Self {
            version: env!("CARGO_PKG_VERSION").to_owned(),
            revision: config::string_or("GIT_REVISION", "unknown")?,
            variant: config::string_or("IMAGE_VARIANT", "not an image (cargo run)")?,
            built: config::string_or("BUILD_DATE", "unknown")?,
        })
    }
}
