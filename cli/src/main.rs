//! `dashlight`: the command-line tool of the dashlight light client.
//!
//! Each subcommand lives in its own module.

mod decode;

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
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Decode(args) => decode::run(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("dashlight: {err}");
            ExitCode::FAILURE
        }
    }
}
