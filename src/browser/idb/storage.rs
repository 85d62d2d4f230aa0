//! `navigator.storage`: persistence (so the browser does not evict the
//! headers under storage pressure) and the origin's usage and quota.

use js_sys::Promise;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use super::error::IdbError;
use super::global::{navigator_member, property};

/// How much the origin stores and may store, in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StorageEstimate {
    /// Bytes used by this origin (all its storage, not only this database).
    pub usage: u64,
    /// Bytes this origin may use before writes fail with `QuotaExceededError`.
    pub quota: u64,
}

impl StorageEstimate {
    /// Bytes left before the quota is reached.
    pub fn available(&self) -> u64 {
        self.quota.saturating_sub(self.usage)
    }
}

/// Asks the browser to make this origin's storage persistent
/// (`navigator.storage.persist()`): `Some(true)` if granted, `Some(false)` if
/// refused (Chromium decides by site engagement, Firefox may prompt), `None`
/// where the API is missing.
pub async fn request_persistence() -> Result<Option<bool>, IdbError> {
    call_storage("persist")
        .await
        .map(|answer| answer.and_then(|value| value.as_bool()))
}

/// Whether this origin's storage is already persistent
/// (`navigator.storage.persisted()`); `None` where the API is missing.
pub async fn is_persisted() -> Result<Option<bool>, IdbError> {
    call_storage("persisted")
        .await
        .map(|answer| answer.and_then(|value| value.as_bool()))
}

/// The origin's storage usage and quota (`navigator.storage.estimate()`);
/// `None` where the API is missing.
pub async fn estimate() -> Result<Option<StorageEstimate>, IdbError> {
    let Some(answer) = call_storage("estimate").await? else {
        return Ok(None);
    };
    let field = |name: &str| {
        property(&answer, name)
            .and_then(|value| value.as_f64())
            .filter(|n| n.is_finite() && *n >= 0.0)
            // Finite and non-negative: `as` saturates at u64::MAX and cannot panic.
            .map(|n| n as u64)
    };
    Ok(field("usage")
        .zip(field("quota"))
        .map(|(usage, quota)| StorageEstimate { usage, quota }))
}

/// Calls `navigator.storage[method]()` and awaits its promise; `None` when
/// the storage manager or the method is missing.
async fn call_storage(method: &str) -> Result<Option<JsValue>, IdbError> {
    let Some(storage) = navigator_member("storage") else {
        return Ok(None);
    };
    let Some(function) =
        property(&storage, method).and_then(|f| f.dyn_into::<js_sys::Function>().ok())
    else {
        return Ok(None);
    };
    let promise = function
        .call0(&storage)
        .map_err(|error| IdbError::from_js(&error))?
        .dyn_into::<Promise>()
        .map_err(|value| IdbError::Js {
            name: String::from("TypeError"),
            message: format!("navigator.storage.{method}() did not return a promise: {value:?}"),
        })?;
    JsFuture::from(promise)
        .await
        .map(Some)
        .map_err(|error| IdbError::from_js(&error))
}
