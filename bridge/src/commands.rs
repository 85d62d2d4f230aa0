//! The commands a client may send to the node in Dash-aware mode.

use dashlight::protocol::framing::Command;
use std::collections::HashSet;

/// The default client→node allow-list: what a light client (headers,
/// masternode lists, quorums, ChainLocks, filtered blocks and its own
/// transactions) needs, and nothing that announces addresses, relays blocks
/// or speaks for a masternode.
pub const DEFAULT_CLIENT_COMMANDS: &[&str] = &[
    // Handshake and keep-alive.
    "version",
    "verack",
    "ping",
    "pong",
    // Feature negotiation.
    "sendheaders",
    "sendheaders2",
    "sendaddrv2",
    "sendcmpct",
    "senddsq",
    "feefilter",
    "qsendrecsigs",
    // Chain and masternode-list sync.
    "getheaders",
    "getheaders2",
    "getblocks",
    "getmnlistd",
    "getqrinfo",
    "getsporks",
    "getaddr",
    // Inventory.
    "inv",
    "getdata",
    "notfound",
    "mempool",
    // Bloom filters (BIP 37) and compact block filters (BIP 157).
    "filterload",
    "filteradd",
    "filterclear",
    "getcfilters",
    "getcfheaders",
    "getcfcheckpt",
    // Broadcasting the client's own transactions.
    "tx",
];

/// A set of allowed commands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandSet(HashSet<Command>);

impl CommandSet {
    /// [`DEFAULT_CLIENT_COMMANDS`].
    pub fn default_client_commands() -> CommandSet {
        CommandSet(
            DEFAULT_CLIENT_COMMANDS
                .iter()
                .map(|name| Command::new(name))
                .collect(),
        )
    }

    /// A set from names; the error is the first name that is not 1 to 12
    /// printable ASCII characters.
    pub fn from_names<S: AsRef<str>>(names: &[S]) -> Result<CommandSet, String> {
        names
            .iter()
            .map(|name| {
                let name = name.as_ref();
                let valid =
                    (1..=12).contains(&name.len()) && name.bytes().all(|b| b.is_ascii_graphic());
                if valid {
                    Ok(Command::new(name))
                } else {
                    Err(name.to_owned())
                }
            })
            .collect::<Result<HashSet<_>, _>>()
            .map(CommandSet)
    }

    /// Whether `command` is allowed.
    pub fn contains(&self, command: &Command) -> bool {
        self.0.contains(command)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_allow_sync_but_not_relay_or_masternode_traffic() {
        let set = CommandSet::default_client_commands();
        for ok in ["version", "getheaders", "getqrinfo", "getmnlistd", "ping"] {
            assert!(set.contains(&Command::new(ok)), "{ok}");
        }
        for refused in [
            "addr", "addrv2", "block", "headers", "mnauth", "qrinfo", "clsig", "spork",
        ] {
            assert!(!set.contains(&Command::new(refused)), "{refused}");
        }
    }

    #[test]
    fn names_are_validated() {
        assert!(CommandSet::from_names(&["ping", "verack"]).is_ok());
        assert_eq!(CommandSet::from_names(&["ping", ""]), Err(String::new()));
        assert!(CommandSet::from_names(&["thirteen-char"]).is_err());
        assert!(CommandSet::from_names(&["with space"]).is_err());
    }
}
