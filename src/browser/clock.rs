//! Time in the browser. `std::time` traps on wasm32, so the runtime reads the
//! clocks here and passes the values into the sans-IO core.

use crate::sync::time::{Now, Timestamp};
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

/// A wall clock for tests: it reads `start_unix_secs` at launch and runs `rate` times as
/// fast as the real one, so a page can live at a capture's time, at a replay's speed.
/// Timers keep the real monotonic clock.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TestClock {
    /// The wall-clock time at launch, in Unix seconds.
    pub start_unix_secs: f64,
    /// How many wall-clock seconds pass per real second.
    pub rate: f64,
}

/// The clocks the client reads for every input to the node.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Clocks {
    /// The test clock and the real wall-clock time (ms) it started at, if one is set.
    test: Option<(TestClock, f64)>,
}

impl Clocks {
    /// The browser's clocks, or `test`'s wall clock starting now.
    pub fn new(test: Option<TestClock>) -> Clocks {
        Clocks {
            test: test.map(|clock| (clock, js_sys::Date::now())),
        }
    }

    /// The wall clock, in Unix seconds.
    pub fn unix_secs(&self) -> u64 {
        match self.test {
            None => unix_ms() / 1000,
            Some((clock, started_ms)) => {
                let elapsed_secs = (js_sys::Date::now() - started_ms).max(0.0) / 1000.0;
                (clock.start_unix_secs + elapsed_secs * clock.rate).max(0.0) as u64
            }
        }
    }

    /// Both clocks, now.
    pub fn now(&self) -> Now {
        Now::new(Timestamp(monotonic_ms()), self.unix_secs())
    }
}
