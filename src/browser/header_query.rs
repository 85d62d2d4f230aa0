//! Header queries: the best chain's header at a height or hash, from memory or IndexedDB.

use super::client::inspect;
use super::error::ClientError;
use super::runtime::RuntimeHandle;
use super::status::HeaderInfo;
use super::store::IdbStore;
use crate::chain::HeaderChain;
use crate::hash::BlockHash;
use crate::node::engine::ClientEngine;
use crate::storage::HeaderStore;

/// The block a header query names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockRef {
    /// The best chain's block at this height.
    Height(u32),
    /// The block with this hash, if on the best chain.
    Hash(BlockHash),
}

/// Where a queried header is.
enum HeaderSource {
    /// Held in memory.
    Held(HeaderInfo),
    /// On the best chain, but only in storage now.
    Stored {
        height: u32,
        hash: BlockHash,
        tip_height: u32,
    },
    /// Not on the best chain.
    Absent,
}

/// The best chain's header at `block` (from memory, else from the database
/// `storage_name`), or `None` if the best chain has no such block.
/// `locked_height` is the height of the last verified ChainLock.
pub async fn header(
    handle: &RuntimeHandle<HeaderChain, ClientEngine>,
    storage_name: &str,
    block: BlockRef,
    locked_height: Option<u32>,
) -> Result<Option<HeaderInfo>, ClientError> {
    let lookup = inspect(handle, move |node| {
        let chain = node.sync().chain();
        let tip_height = chain.tip().height;
        let found = match block {
            BlockRef::Height(height) => chain.hash_at(height).map(|hash| (height, hash)),
            BlockRef::Hash(hash) => chain.height_of(&hash).map(|height| (height, hash)),
        };
        match found {
            None => HeaderSource::Absent,
            Some((height, hash)) => match chain.header_at(height) {
                Some(header) => HeaderSource::Held(HeaderInfo::new(
                    height,
                    hash,
                    header,
                    tip_height,
                    locked_height,
                )),
                None => HeaderSource::Stored {
                    height,
                    hash,
                    tip_height,
                },
            },
        }
    })
    .await?;
    let (height, hash, tip_height) = match lookup {
        HeaderSource::Held(info) => return Ok(Some(info)),
        HeaderSource::Absent => return Ok(None),
        HeaderSource::Stored {
            height,
            hash,
            tip_height,
        } => (height, hash, tip_height),
    };
    let store = IdbStore::open(storage_name).await?;
    let stored = store.read_headers(height, 1).await?;
    match stored.first() {
        Some(header) if header.block_hash() == hash => Ok(Some(HeaderInfo::new(
            height,
            hash,
            header,
            tip_height,
            locked_height,
        ))),
        _ => Err(ClientError {
            code: "storage_failed",
            message: format!("the stored header at height {height} is not block {hash}"),
        }),
    }
}
