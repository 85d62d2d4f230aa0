//! The Dash P2P wire protocol: message framing and the messages a light client speaks.

pub mod address;
pub mod bitset;
pub mod bloom;
pub mod chainlock;
pub mod coinbase;
pub mod commitment;
pub mod framing;
pub mod handshake;
pub mod headers;
pub mod inventory;
pub mod isdlock;
pub mod message;
pub mod mnlistdiff;
pub mod net_info;
pub mod partial_merkle_tree;
pub mod qrinfo;
pub mod reject;
pub mod sml_entry;
pub mod snapshot;
pub mod transaction;
pub mod version;

pub use message::{MessageError, NetworkMessage};
pub use version::{MIN_PEER_PROTO_VERSION, PROTOCOL_VERSION};
