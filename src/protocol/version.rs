//! Protocol version numbers: the one dashlight speaks, the oldest peer it
//! accepts, and the versions at which the wire layout of Dash messages changed.
//!
//! Layout-dependent decoders (`mnlistdiff`, `qrinfo`, SML entries) take the
//! negotiated version, the lower of ours and the peer's, as a parameter.

/// The protocol version dashlight announces in its `version` message.
pub const PROTOCOL_VERSION: u32 = 70230;

/// The oldest peer protocol version dashlight talks to.
pub const MIN_PEER_PROTO_VERSION: u32 = 70216;

/// From this version the masternode-list diff carries a version field
/// (after the coinbase transaction until [`MNLISTDIFF_VERSION_ORDER`]).
pub const BLS_SCHEME_PROTO_VERSION: u32 = 70225;

/// From this version SML entries of version 2 carry a masternode type
/// (and Evo entries their platform fields).
pub const DMN_TYPE_PROTO_VERSION: u32 = 70227;

/// From this version every SML entry starts with its own version field.
pub const SMNLE_VERSIONED_PROTO_VERSION: u32 = 70228;

/// From this version the masternode-list diff's version field is its first field.
pub const MNLISTDIFF_VERSION_ORDER: u32 = 70229;

/// From this version the masternode-list diff ends with `quorumsCLSigs`.
pub const MNLISTDIFF_CHAINLOCKS_PROTO_VERSION: u32 = 70230;
