//! `dashlight`: the command-line tool of the dashlight light client.
//!
//! Each subcommand lives in its own module.

mod clsig;
mod decode;
mod headers;
mod mnlist;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// Command-line interface of dashlight, a Dash light client.
#[derive(Parser)]
#[command(name = "dashlight", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Decode a Dash P2P message or header file and print a JSON summary.
    Decode(decode::DecodeArgs),
    /// Apply mnlistdiff/qrinfo files in order, verify lists and quorums, print JSON.
    Mnlist(mnlist::MnlistArgs),
    /// Verify a ChainLock against the lists built from mnlistdiff/qrinfo files.
    Clsig(clsig::ClsigArgs),
    /// Validate a file of consecutive block headers and print a JSON report.
    Headers(headers::HeadersArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result: Result<(), Box<dyn std::error::Error>> = match cli.command {
        Command::Decode(args) => decode::run(&args).map_err(Into::into),
        Command::Mnlist(args) => mnlist::run(&args).map_err(Into::into),
        Command::Clsig(args) => clsig::run(&args).map_err(Into::into),
        Command::Headers(args) => headers::run(&args).map_err(Into::into),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("dashlight: {err}");
            ExitCode::FAILURE
        }
    }
}
