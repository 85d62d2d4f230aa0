//! Saving what the node verified to IndexedDB, and reporting failing and recovering saves.

use super::runtime::{Persisted, Persister};
use super::shared::Shared;
use super::status::{ClientNode, StorageStatus};
use super::store::IdbStore;
use crate::chain::ChainTip;
use crate::chain::HeaderChain;
use crate::node::engine::ClientEngine;
use crate::storage::{save_masternodes, ChainSaver, StorageError};
use std::cell::RefCell;
use std::rc::Rc;

/// Writes new best-chain headers to IndexedDB after each change, and the
/// masternode engine's state after it changed, once the lists a QRInfo needs
/// are in (not after each of their diffs). After failed saves it keeps what
/// they missed ([`ChainSaver`]) and reports failing and recovering in
/// [`Shared::storage`].
pub struct IdbPersister {
    store: IdbStore,
    /// Keeps the headers of failed saves.
    saver: ChainSaver,
    /// The tip last written, to skip the store when nothing changed.
    stored: ChainTip,
    /// The engine revision last written.
    engine_revision: u64,
    /// The lists settled since the engine's state was last written.
    lists_due: bool,
    /// Saves failed in a row.
    failed_saves: u32,
    shared: Rc<RefCell<Shared>>,
}

impl IdbPersister {
    /// A persister writing to `store`, which holds the chain up to `stored` and the engine
    /// state of `engine_revision`.
    pub fn new(
        store: IdbStore,
        stored: ChainTip,
        engine_revision: u64,
        shared: Rc<RefCell<Shared>>,
    ) -> IdbPersister {
        IdbPersister {
            store,
            saver: ChainSaver::new(),
            stored,
            engine_revision,
            lists_due: false,
            failed_saves: 0,
            shared,
        }
    }

    /// Writes what changed since the last successful call.
    async fn save(&mut self, node: &ClientNode) -> Result<(), StorageError> {
        let chain = node.sync().chain();
        let tip = chain.tip();
        if tip.hash != self.stored.hash {
            self.saver.save(&mut self.store, chain).await?;
            self.stored = tip;
        }
        let engine = node.sync().engine().inner();
        if self.lists_due && engine.revision() != self.engine_revision {
            save_masternodes(&mut self.store, engine).await?;
            self.engine_revision = engine.revision();
        }
        self.lists_due = false;
        Ok(())
    }
}

impl Persister<HeaderChain, ClientEngine> for IdbPersister {
    async fn persist(
        &mut self,
        node: &ClientNode,
        lists_settled: bool,
    ) -> Result<Persisted, String> {
        self.lists_due |= lists_settled;
        let result = self.save(node).await;
        let stored_height = self.stored.height;
        let (status, outcome) = match result {
            Ok(()) if self.failed_saves == 0 => {
                (StorageStatus::Ok { stored_height }, Ok(Persisted::Stored))
            }
            Ok(()) => {
                let note = format!(
                    "stored up to height {stored_height} after {} failed saves",
                    self.failed_saves
                );
                self.failed_saves = 0;
                (
                    StorageStatus::Ok { stored_height },
                    Ok(Persisted::Recovered(note)),
                )
            }
            Err(error) => {
                self.failed_saves = self.failed_saves.saturating_add(1);
                let status = StorageStatus::Failing {
                    stored_height,
                    unsaved_headers: self.saver.unsaved_headers(),
                    failed_saves: self.failed_saves,
                    error: error.to_string(),
                };
                (status, Err(error.to_string()))
            }
        };
        self.shared.borrow_mut().storage = Some(status);
        outcome
    }
}
