//! Bounded memory: many clients that stop reading while their target sends
//! 4 MiB messages keep the bridge's heap under the documented bound. A test
//! binary of its own, so that the counting allocator sees this test only.

mod counting;
mod slow_readers;

use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_readers_keep_the_heap_under_the_documented_bound() {
    let report = slow_readers::run(32, 4 * 1024 * 1024, Duration::from_secs(15))
        .await
        .expect("slow-reader run");
    println!("{}", report.summary());
    assert!(report.held() <= report.allowed(), "{}", report.summary());
}
