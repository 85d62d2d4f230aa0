//! The upper bound on the heap the bridge uses, as a formula of its
//! settings (documented in the README and checked by the slow-reader test).
//!
//! Per relayed connection, with `R` the WebSocket read buffer, `C` the
//! target read chunk, `F` the largest frame sent to a client, `Fi` the
//! largest frame and `Mc` the largest message accepted from a client, `H`
//! the 24-byte Dash header and `K` the fixed state of a connection:
//!
//! - target→client: one read chunk and what the stream filter passes on
//!   (`2·(C + H)`), and the frame being written (`2·(F + 14)`, the encoded
//!   frame and its buffer's slack); a slow client holds no more, because the
//!   target is read again only once the client took the last chunk;
//! - client→target: the WebSocket read buffer or one frame being read
//!   (`max(R, Fi + 14)`), the message being assembled, its copy fed to the
//!   decoder, the decoder's buffer and the messages passed on
//!   (`4·(Mc + H)`); a slow target holds no more, for the same reason;
//! - `K`: the connection's task, WebSocket state, filters and counters;
//! - `T`: with built-in TLS, rustls' buffers and state.
//!
//! A connection still in its handshake holds less (tungstenite reads at most
//! 64 KiB of request). The process adds a fixed amount for the runtime, the
//! listeners, the health endpoint and the refusals in progress.

use crate::config::Config;
use dashlight::protocol::framing::HEADER_LEN;

/// Most bytes read from the target at once (`C`).
pub const READ_CHUNK: usize = 64 * 1024;
/// Largest WebSocket frame sent to a client (`F`): longer data goes out as
/// several frames.
pub const MAX_FRAME_OUT: usize = 64 * 1024;
/// WebSocket read buffer of each connection (`R`; clients send little).
pub const WS_READ_BUFFER: usize = 8 * 1024;
/// A WebSocket frame header is at most 14 bytes.
const FRAME_HEADER: usize = 14;
/// The fixed state of one connection (`K`): its task, the WebSocket and
/// filter state and counters (an allowance; the slow-reader test measures
/// everything a stalled connection holds, this included, at 80–95 KiB).
pub const CONNECTION_STATE: usize = 32 * 1024;
/// What built-in TLS adds to a connection (`T`): rustls' buffers (up to
/// 64 KiB of outgoing records, one incoming record of up to 16 KiB) and
/// session state; an allowance, not measured by the slow-reader test.
pub const TLS_STATE: usize = 96 * 1024;
/// The fixed part of the process: runtime, listeners, health requests and
/// refusals in progress, tracing (an allowance).
pub const PROCESS_BASE: usize = 4 * 1024 * 1024;

/// The bound, in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemoryBound {
    /// What one connection can hold.
    pub per_connection: usize,
    /// What the whole process can hold with every connection slot taken.
    pub process: usize,
}

impl MemoryBound {
    /// The bound for `config`'s settings.
    pub fn of(config: &Config) -> MemoryBound {
        let down = 2 * (READ_CHUNK + HEADER_LEN) + 2 * (MAX_FRAME_OUT + FRAME_HEADER);
        let up = WS_READ_BUFFER.max(config.max_frame_size + FRAME_HEADER)
            + 4 * (config.max_message_size + HEADER_LEN);
        let tls = if config.tls_cert.is_some() {
            TLS_STATE
        } else {
            0
        };
        let per_connection = down + up + CONNECTION_STATE + tls;
        MemoryBound {
            per_connection,
            process: PROCESS_BASE + config.max_connections * per_connection,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dashlight::network::Network;

    #[test]
    fn defaults_are_bounded_whatever_the_target_sends() {
        let mut config = Config::new(Network::Mainnet, Vec::new());
        let bound = MemoryBound::of(&config);
        // 8 MiB target messages do not count: they are streamed through.
        assert!(bound.per_connection < 2 * 1024 * 1024, "{bound:?}");
        config.max_target_message_size *= 4;
        assert_eq!(MemoryBound::of(&config), bound);
        config.max_message_size *= 2;
        assert!(MemoryBound::of(&config).per_connection > bound.per_connection);
        assert_eq!(
            bound.process,
            PROCESS_BASE + config.max_connections * bound.per_connection
        );
    }
}
