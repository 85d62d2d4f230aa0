//! `GET /metrics`, scraped and parsed as the Prometheus text format.

use crate::support::*;
use futures_util::SinkExt;
use std::collections::{BTreeMap, HashSet};
use tokio_tungstenite::tungstenite::Message;

/// One sample: its metric name and labels.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Series {
    name: String,
    labels: BTreeMap<String, String>,
}

fn is_name(name: &str, colon: bool) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || (colon && c == ':'))
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || (colon && c == ':'))
}

/// Parses `{a="x",b="y"}` (after the metric name) into labels and the rest.
fn parse_labels(text: &str) -> Result<(BTreeMap<String, String>, &str), String> {
    let mut labels = BTreeMap::new();
    let Some(mut rest) = text.strip_prefix('{') else {
        return Ok((labels, text));
    };
    loop {
        if let Some(after) = rest.strip_prefix('}') {
            return Ok((labels, after));
        }
        let (name, after) = rest.split_once("=\"").ok_or("label without =\"")?;
        if !is_name(name, false) {
            return Err(format!("bad label name {name:?}"));
        }
        let mut value = String::new();
        let mut chars = after.char_indices();
        let end = loop {
            match chars.next().ok_or("unterminated label value")? {
                (i, '"') => break i,
                (_, '\\') => match chars.next().ok_or("dangling escape")?.1 {
                    '\\' => value.push('\\'),
                    '"' => value.push('"'),
                    'n' => value.push('\n'),
                    other => return Err(format!("bad escape \\{other}")),
                },
                (_, c) => value.push(c),
            }
        };
        if labels.insert(name.to_owned(), value).is_some() {
            return Err(format!("label {name} twice"));
        }
        rest = &after[end + 1..];
        rest = rest.strip_prefix(',').unwrap_or(rest);
    }
}

/// Parses the Prometheus text exposition format (0.0.4), strictly: every
/// family has one HELP and one TYPE before its samples, counters end in
/// `_total`, every sample is `name{labels} value` with a number, no series
/// twice.
fn parse_prometheus(text: &str) -> Result<BTreeMap<Series, f64>, String> {
    let mut samples = BTreeMap::new();
    let mut types: BTreeMap<String, String> = BTreeMap::new();
    let mut helped = HashSet::new();
    assert!(text.ends_with('\n'), "the text ends with a newline");
    for line in text.lines() {
        if let Some(help) = line.strip_prefix("# HELP ") {
            let (name, doc) = help.split_once(' ').ok_or("HELP without text")?;
            if !is_name(name, true) || doc.is_empty() || !helped.insert(name.to_owned()) {
                return Err(format!("bad HELP line {line:?}"));
            }
        } else if let Some(kind) = line.strip_prefix("# TYPE ") {
            let (name, kind) = kind.split_once(' ').ok_or("TYPE without type")?;
            let known = ["counter", "gauge", "histogram", "summary", "untyped"];
            if !known.contains(&kind) || types.insert(name.to_owned(), kind.to_owned()).is_some() {
                return Err(format!("bad TYPE line {line:?}"));
            }
            if kind == "counter" && !name.ends_with("_total") {
                return Err(format!("counter {name} does not end in _total"));
            }
        } else if line.starts_with('#') || line.is_empty() {
            return Err(format!("unexpected line {line:?}"));
        } else {
            let end = line
                .find(['{', ' '])
                .ok_or(format!("no value in {line:?}"))?;
            let name = &line[..end];
            if !is_name(name, true) {
                return Err(format!("bad metric name {name:?}"));
            }
            if !types.contains_key(name) || !helped.contains(name) {
                return Err(format!("{name} has no TYPE or HELP before its samples"));
            }
            let (labels, rest) = parse_labels(&line[end..])?;
            let value: f64 = rest
                .strip_prefix(' ')
                .ok_or(format!("no space before the value in {line:?}"))?
                .parse()
                .map_err(|_| format!("bad value in {line:?}"))?;
            let series = Series {
                name: name.to_owned(),
                labels,
            };
            if samples.insert(series, value).is_some() {
                return Err(format!("series twice: {line:?}"));
            }
        }
    }
    Ok(samples)
}

fn value(samples: &BTreeMap<Series, f64>, name: &str, labels: &[(&str, &str)]) -> f64 {
    let series = Series {
        name: name.to_owned(),
        labels: labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    };
    *samples
        .get(&series)
        .unwrap_or_else(|| panic!("no sample {series:?}"))
}

#[tokio::test]
async fn metrics_are_scraped_as_prometheus_text() {
    within(30, async {
        let dashd = FakeDashd::sending(wire("verack", &[]), &[24]).await;
        let bridge = RunningBridge::start(config(vec![target(dashd.addr)])).await;
        let mut client = bridge.connect().await;
        receive_bytes(&mut client, 24).await;
        client
            .send(Message::binary(wire("ping", &[1; 8])))
            .await
            .unwrap();
        bridge.wait_for_health("bytes_to_target", 32).await;
        let mut bad = bridge.connect().await;
        receive_bytes(&mut bad, 24).await;
        bad.send(Message::binary(wire("addr", &[0]))).await.unwrap();
        assert_closed(&mut bad, 1008, "not allowed").await;
        bridge.wait_for_health("violations_total", 1).await;
        bridge.wait_for_health("bytes_to_client", 48).await;
        bridge.wait_for_health("connections", 1).await;

        let (status, text) = bridge.http_get("/metrics").await;
        assert_eq!(status, 200);
        let samples = parse_prometheus(&text).unwrap_or_else(|err| panic!("{err}\n{text}"));
        let get = |name, labels: &[(&str, &str)]| value(&samples, name, labels);
        assert_eq!(get("dashlight_bridge_connections", &[]), 1.0);
        assert_eq!(get("dashlight_bridge_clients", &[]), 1.0);
        assert_eq!(get("dashlight_bridge_relays", &[]), 1.0);
        assert_eq!(
            get(
                "dashlight_bridge_bytes_total",
                &[("direction", "to_client")]
            ),
            48.0
        );
        assert_eq!(
            get(
                "dashlight_bridge_bytes_total",
                &[("direction", "to_target")]
            ),
            32.0
        );
        assert_eq!(get("dashlight_bridge_violations_total", &[]), 1.0);
        assert_eq!(
            get(
                "dashlight_bridge_closes_total",
                &[("reason", "client_violation")]
            ),
            1.0
        );
        assert_eq!(
            get("dashlight_bridge_target_relays", &[("target", "default")]),
            1.0
        );
        assert_eq!(
            get(
                "dashlight_bridge_target_bytes_total",
                &[("target", "default"), ("direction", "to_client")]
            ),
            48.0
        );
        assert_eq!(bridge.health().await["connections"], 1);
    })
    .await;
}

#[test]
fn the_parser_is_strict() {
    assert!(
        parse_prometheus("# HELP a_total x\n# TYPE a_total counter\na_total{b=\"c\\\"\"} 1\n")
            .is_ok()
    );
    for bad in [
        "a 1\n",
        "# HELP a x\n# TYPE a gauge\na{b=\"c} 1\n",
        "# HELP a x\n# TYPE a counter\na 1\n",
        "# HELP a x\n# TYPE a gauge\na one\n",
        "# HELP a x\n# TYPE a gauge\na 1\na 2\n",
    ] {
        assert!(parse_prometheus(bad).is_err(), "{bad:?}");
    }
}
