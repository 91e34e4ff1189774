//! Receiving uploads: a `multipart/form-data` body read part by part, each
//! file streamed into the blob store's staging area (never held whole in
//! memory), the other parts kept as text fields. Used by the API, the web
//! app and the portal alike.
//!
//! Bounds: at most [`MAX_FILES_PER_UPLOAD`] files (each within the
//! configured size), at most [`MAX_FIELDS`] text fields of at most
//! [`MAX_FIELD_BYTES`] each. Past any of them the upload is refused and
//! whatever was staged is deleted.

use axum::extract::{FromRequest, Multipart, Request};
use dossier_domain::ValidationErrors;
use dossier_domain::limits::MAX_FILES_PER_UPLOAD;
use dossier_service::ServiceError;
use dossier_service::files::{Content, Files, Upload};

/// Text fields an upload form may carry.
pub const MAX_FIELDS: usize = 50;
/// The longest text field of an upload form (a message body fits).
pub const MAX_FIELD_BYTES: usize = 100_000;

/// An upload form as received.
#[derive(Default)]
pub struct Received {
    pub fields: Vec<(String, String)>,
    pub uploads: Vec<Upload>,
}

impl Received {
    /// The text fields as a form type (unknown fields refused as the type says).
    pub fn form<T: serde::de::DeserializeOwned>(&self) -> Result<T, ServiceError> {
        let encoded = serde_urlencoded::to_string(&self.fields).map_err(|e| invalid(e.to_string()))?;
        serde_urlencoded::from_str(&encoded).map_err(|e| ServiceError::from(ValidationErrors::one("body", "invalid_body", e.to_string())))
    }
}

fn invalid(detail: String) -> ServiceError {
    ValidationErrors::one("body", "malformed_upload", detail).into()
}

/// Read a `multipart/form-data` request: parts with a file name are files
/// (an empty part, a file input left empty, is skipped); the rest are text.
pub async fn receive(files: &Files, request: Request) -> Result<Received, ServiceError> {
    let mut multipart =
        Multipart::from_request(request, &()).await.map_err(|e| invalid(format!("send the files as multipart/form-data ({})", e.body_text())))?;
    let mut received = Received::default();
    while let Some(mut part) = multipart.next_field().await.map_err(|e| invalid(e.body_text()))? {
        let name = part.name().unwrap_or_default().to_owned();
        if let Some(file_name) = part.file_name().map(str::to_owned) {
            if received.uploads.len() == MAX_FILES_PER_UPLOAD {
                return Err(ValidationErrors::one("file", "too_many", format!("send at most {MAX_FILES_PER_UPLOAD} files at once")).into());
            }
            let mut staging = files.stage().await?;
            while let Some(chunk) = part.chunk().await.map_err(|e| invalid(e.body_text()))? {
                files.write(&mut staging, &chunk).await?;
            }
            let staged = files.finish(staging).await?;
            if staged.size == 0 && file_name.is_empty() {
                continue;
            }
            received.uploads.push(Upload { name: file_name, content: Content::Staged(staged) });
        } else {
            if received.fields.len() == MAX_FIELDS {
                return Err(invalid(format!("send at most {MAX_FIELDS} fields besides the files")));
            }
            let mut value = Vec::new();
            while let Some(chunk) = part.chunk().await.map_err(|e| invalid(e.body_text()))? {
                if value.len() + chunk.len() > MAX_FIELD_BYTES {
                    return Err(ValidationErrors::one(name, "too_long", format!("must be at most {MAX_FIELD_BYTES} bytes")).into());
                }
                value.extend_from_slice(&chunk);
            }
            let value = String::from_utf8(value).map_err(|_| ValidationErrors::one(name.clone(), "invalid_characters", "must be UTF-8 text"))?;
            received.fields.push((name, value));
        }
    }
    Ok(received)
}
