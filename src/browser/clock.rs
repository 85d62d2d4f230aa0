//! Time in the browser. `std::time` traps on wasm32, so the runtime reads the
//! clocks here and passes the values into the sans-IO core.

use wasm_bindgen::{JsCast, JsValue};
use web_sys::Performance;

/// Milliseconds on a monotonic clock (`performance.now()`, window or worker).
pub fn monotonic_ms() -> u64 {
    js_sys::Reflect::get(&js_sys::global(), &JsValue::from_str("performance"))
        .ok()
        .and_then(|p| p.dyn_into::<Performance>().ok())
        .map(|p| p.now().max(0.0) as u64)
        .unwrap_or_else(unix_ms)
}

/// Milliseconds since the Unix epoch, from the wall clock (`Date.now()`).
pub fn unix_ms() -> u64 {
    js_sys::Date::now().max(0.0) as u64
}
