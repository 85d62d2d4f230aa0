//! `dashlight clsig`: builds masternode lists from `mnlistdiff`/`qrinfo` files,
//! then verifies a ChainLock (a raw `clsig` payload) against them and prints
//! the result as JSON. Exits non-zero unless the signature verifies.

use crate::mnlist::{apply_files, chainlock_value, setup, MnlistFailure, SourceArgs};
use clap::Args;
use dashlight::encode::deserialize;
use dashlight::protocol::chainlock::ClSig;
use std::path::PathBuf;

/// Arguments of `dashlight clsig`.
#[derive(Args)]
pub struct ClsigArgs {
    #[command(flatten)]
    pub source: SourceArgs,
    /// An `mnlistdiff` or `qrinfo` payload file to build the lists from
    /// (repeatable, applied in order).
    #[arg(long = "list", required = true)]
    pub lists: Vec<PathBuf>,
    /// The `clsig` payload file.
    pub file: PathBuf,
}

/// Runs `dashlight clsig`.
pub fn run(args: &ClsigArgs) -> Result<(), MnlistFailure> {
    let (mut engine, mut headers) = setup(&args.source)?;
    let list_failures = apply_files(
        &mut engine,
        &mut headers,
        &args.lists,
        args.source.protocol,
        false,
    )?;
    let bytes = std::fs::read(&args.file).map_err(|e| MnlistFailure::Io(args.file.clone(), e))?;
    let clsig: ClSig =
        deserialize(&bytes).map_err(|e| MnlistFailure::Decode(args.file.clone(), e))?;
    let check = engine.verify_chainlock(&clsig, &headers);
    println!("{}", chainlock_value(&check));
    let failures = list_failures + usize::from(!check.signature_valid());
    if failures > 0 {
        return Err(MnlistFailure::ChecksFailed(failures));
    }
    Ok(())
}
