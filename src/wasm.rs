//! The JavaScript-facing API, compiled only for `wasm32`.

use wasm_bindgen::prelude::wasm_bindgen;

/// The version of the dashlight package.
#[wasm_bindgen]
pub fn version() -> String {
    env!("CARGO_PKG_VERSION").to_owned()
}
