//! Browser APIs reached from the global object, so the store works the same
//! in a window and in a Web Worker.

use wasm_bindgen::{JsCast, JsValue};
use web_sys::IdbFactory;

use super::error::IdbError;

/// `target[name]`, or `None` when it is missing, `null`, or its getter throws.
pub(crate) fn property(target: &JsValue, name: &str) -> Option<JsValue> {
    js_sys::Reflect::get(target, &JsValue::from_str(name))
        .ok()
        .filter(|value| !value.is_undefined() && !value.is_null())
}

/// The global `indexedDB` factory.
pub(crate) fn idb_factory() -> Result<IdbFactory, IdbError> {
    property(&js_sys::global(), "indexedDB")
        .and_then(|value| value.dyn_into::<IdbFactory>().ok())
        .ok_or(IdbError::Unsupported { api: "indexedDB" })
}

/// `navigator[name]` (e.g. `storage`, `locks`), or `None` when missing.
pub(crate) fn navigator_member(name: &str) -> Option<JsValue> {
    property(&js_sys::global(), "navigator").and_then(|navigator| property(&navigator, name))
}
