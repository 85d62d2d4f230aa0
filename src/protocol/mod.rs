//! The Dash P2P wire protocol: message framing and the messages a light client speaks.

pub mod framing;
