//! Integration tests of the bridge over real sockets on 127.0.0.1.

mod fair;
mod metrics;
mod policy;
mod process;
mod relay;
mod support;
mod tls;
