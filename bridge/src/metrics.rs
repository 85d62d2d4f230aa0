//! `GET /metrics`: the counters in the Prometheus text exposition format
//! (version 0.0.4), for an operator's monitoring to scrape.

use crate::health::HealthReport;
use crate::stats::Stats;
use std::fmt::Write;
use std::sync::atomic::Ordering;

/// The `Content-Type` of the answer.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Writes one metric family: its help, its type and its samples (label
/// pairs and value).
fn family(out: &mut String, name: &str, kind: &str, help: &str, samples: &[(String, u64)]) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
    for (labels, value) in samples {
        if labels.is_empty() {
            let _ = writeln!(out, "{name} {value}");
        } else {
            let _ = writeln!(out, "{name}{{{labels}}} {value}");
        }
    }
}

/// A label value with `\`, `"` and newlines escaped.
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn single(value: u64) -> Vec<(String, u64)> {
    vec![(String::new(), value)]
}

/// The metrics of `report` and `stats`.
pub fn render(report: &HealthReport, stats: &Stats) -> String {
    let totals = &report.totals;
    let mut out = String::with_capacity(4096);
    let gauge = |out: &mut String, name, help, value: usize| {
        family(out, name, "gauge", help, &single(value as u64));
    };
    gauge(
        &mut out,
        "dashlight_bridge_connections",
        "Connections held now, including handshakes in progress.",
        report.connections,
    );
    gauge(
        &mut out,
        "dashlight_bridge_clients",
        "Distinct client keys (addresses, IPv6 prefixes) holding connections.",
        report.clients,
    );
    gauge(
        &mut out,
        "dashlight_bridge_max_connections",
        "The total connection cap.",
        report.max_connections,
    );
    family(
        &mut out,
        "dashlight_bridge_relays",
        "gauge",
        "Relays to a target running now.",
        &single(totals.relays_active),
    );
    family(
        &mut out,
        "dashlight_bridge_uptime_seconds",
        "gauge",
        "Seconds since start.",
        &single(report.uptime_secs),
    );
    family(
        &mut out,
        "dashlight_bridge_accepted_total",
        "counter",
        "TCP connections accepted.",
        &single(totals.accepted_total),
    );
    family(
        &mut out,
        "dashlight_bridge_relays_total",
        "counter",
        "Relays to a target started.",
        &single(totals.relays_total),
    );
    family(
        &mut out,
        "dashlight_bridge_bytes_total",
        "counter",
        "Bytes forwarded, by direction.",
        &[
            ("direction=\"to_target\"".to_owned(), totals.bytes_to_target),
            ("direction=\"to_client\"".to_owned(), totals.bytes_to_client),
        ],
    );
    family(
        &mut out,
        "dashlight_bridge_violations_total",
        "counter",
        "Connections closed for traffic the bridge does not allow.",
        &single(totals.violations_total),
    );
    let by = |label: &str, pairs: Vec<(String, u64)>| -> Vec<(String, u64)> {
        pairs
            .into_iter()
            .map(|(value, count)| (format!("{label}=\"{}\"", escape(&value)), count))
            .collect()
    };
    let owned = |pairs: Vec<(&'static str, u64)>| -> Vec<(String, u64)> {
        pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
    };
    family(
        &mut out,
        "dashlight_bridge_refused_total",
        "counter",
        "Connections refused before relaying, by reason.",
        &by("reason", owned(stats.refusals())),
    );
    family(
        &mut out,
        "dashlight_bridge_closes_total",
        "counter",
        "Relays ended, by reason.",
        &by("reason", owned(stats.closes())),
    );
    family(
        &mut out,
        "dashlight_bridge_budget_hits_total",
        "counter",
        "Clients closed for going over a command budget, by command.",
        &by("command", stats.budget_hits()),
    );
    let targets = stats.targets();
    let per_target = |f: &dyn Fn(&crate::stats::TargetStats) -> u64| -> Vec<(String, u64)> {
        targets
            .iter()
            .map(|(name, t)| (format!("target=\"{}\"", escape(name)), f(t)))
            .collect()
    };
    family(
        &mut out,
        "dashlight_bridge_target_relays",
        "gauge",
        "Relays running now, by target.",
        &per_target(&|t| t.relays_active.load(Ordering::Relaxed)),
    );
    family(
        &mut out,
        "dashlight_bridge_target_relays_total",
        "counter",
        "Relays started, by target.",
        &per_target(&|t| t.relays_total.load(Ordering::Relaxed)),
    );
    let mut bytes = Vec::new();
    for (name, t) in &targets {
        let name = escape(name);
        bytes.push((
            format!("target=\"{name}\",direction=\"to_target\""),
            t.bytes_to_target.load(Ordering::Relaxed),
        ));
        bytes.push((
            format!("target=\"{name}\",direction=\"to_client\""),
            t.bytes_to_client.load(Ordering::Relaxed),
        ));
    }
    family(
        &mut out,
        "dashlight_bridge_target_bytes_total",
        "counter",
        "Bytes forwarded, by target and direction.",
        &bytes,
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }

    #[test]
    fn families_have_help_type_and_samples() {
        let stats = Stats::default();
        stats.closed("idle");
        stats.budget_hit("getqrinfo");
        stats.target("peer\"0");
        let report = HealthReport {
            status: "ok",
            network: "testnet",
            mode: "dash",
            connections: 2,
            clients: 1,
            max_connections: 10,
            uptime_secs: 5,
            totals: stats.snapshot(),
        };
        let text = render(&report, &stats);
        assert!(text.contains(
            "# TYPE dashlight_bridge_connections gauge\ndashlight_bridge_connections 2\n"
        ));
        assert!(text.contains("dashlight_bridge_closes_total{reason=\"idle\"} 1\n"));
        assert!(text.contains("dashlight_bridge_budget_hits_total{command=\"getqrinfo\"} 1\n"));
        assert!(text.contains("dashlight_bridge_target_relays{target=\"peer\\\"0\"} 0\n"));
    }
}
