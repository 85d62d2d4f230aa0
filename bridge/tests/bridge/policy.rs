//! Admission and safety: target allow-list, private targets, caps, origins,
//! timeouts, health and graceful shutdown.

use crate::support::*;
use dashlight_bridge::config::ConfigError;
use dashlight_bridge::{Bridge, StartError, Target};
use std::time::{Duration, Instant};
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;

#[tokio::test]
async fn only_allow_listed_targets_are_reachable() {
    within(30, async {
        let a = FakeDashd::silent().await;
        let b = FakeDashd::silent().await;
        let outside = FakeDashd::silent().await;
        let bridge = RunningBridge::start(config(vec![
            Target::new("a", &a.addr.to_string()).unwrap(),
            Target::new("b", &b.addr.to_string()).unwrap(),
        ]))
        .await;

        let _by_query = bridge.connect_with("/?target=b", &[]).await.unwrap();
        let _by_path = bridge.connect_with("/b", &[]).await.unwrap();
        let _default = bridge.connect_with("/", &[]).await.unwrap();
        for path in [
            format!("/?target={}", outside.addr),
            format!("/{}", outside.addr),
            "/?target=localhost".to_owned(),
            "/c".to_owned(),
            "/a?target=b".to_owned(),
        ] {
            assert_eq!(
                refusal_status(bridge.connect_with(&path, &[]).await),
                404,
                "{path}"
            );
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert_eq!((a.accepted(), b.accepted(), outside.accepted()), (1, 2, 0));
    })
    .await;
}

#[tokio::test]
async fn private_targets_need_allow_private() {
    within(30, async {
        let dashd = FakeDashd::silent().await;
        let mut literal = config(vec![target(dashd.addr)]);
        literal.allow_private = false;
        assert!(matches!(
            Bridge::bind(literal).await,
            Err(StartError::Config(ConfigError::PrivateTarget { .. }))
        ));

        // A name resolving to loopback is refused when connecting.
        let by_name = || {
            config(vec![Target::new(
                "default",
                &format!("localhost:{}", dashd.addr.port()),
            )
            .unwrap()])
        };
        let mut refused = by_name();
        refused.allow_private = false;
        let bridge = RunningBridge::start(refused).await;
        let mut client = bridge.connect().await;
        assert_closed(&mut client, 1008, "loopback and not allowed").await;
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(dashd.accepted(), 0);

        let bridge = RunningBridge::start(by_name()).await;
        let _client = bridge.connect().await;
        bridge.wait_for_health("relays_active", 1).await;
        assert_eq!(dashd.accepted(), 1);
    })
    .await;
}

#[tokio::test]
async fn total_connection_cap() {
    within(30, async {
        let dashd = FakeDashd::silent().await;
        let mut config = config(vec![target(dashd.addr)]);
        config.max_connections = 2;
        let bridge = RunningBridge::start(config).await;
        let first = bridge.connect().await;
        let _second = bridge.connect().await;
        match bridge.connect_with("/", &[]).await {
            Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
                assert_eq!(response.status().as_u16(), 503)
            }
            Err(_) => {}
            Ok(_) => panic!("a third connection was accepted"),
        }
        assert_eq!(bridge.health().await["connections"], 2);
        drop(first);
        bridge.wait_for_health("connections", 1).await;
        let _third = bridge.connect().await;
    })
    .await;
}

#[tokio::test]
async fn per_client_cap_uses_forwarded_for_only_when_trusted() {
    within(30, async {
        let dashd = FakeDashd::silent().await;
        let mut untrusted = config(vec![target(dashd.addr)]);
        untrusted.max_connections_per_ip = 1;
        let mut trusted = untrusted.clone();
        trusted.trust_proxy = true;

        let bridge = RunningBridge::start(untrusted).await;
        let _first = bridge
            .connect_with("/", &[("x-forwarded-for", "198.51.100.1")])
            .await
            .unwrap();
        assert_eq!(
            refusal_status(
                bridge
                    .connect_with("/", &[("x-forwarded-for", "198.51.100.2")])
                    .await
            ),
            429
        );

        let bridge = RunningBridge::start(trusted).await;
        let _a = bridge
            .connect_with("/", &[("x-forwarded-for", "10.0.0.1, 198.51.100.1")])
            .await
            .unwrap();
        let _b = bridge
            .connect_with("/", &[("x-forwarded-for", "198.51.100.2")])
            .await
            .unwrap();
        assert_eq!(
            refusal_status(
                bridge
                    .connect_with("/", &[("x-forwarded-for", "203.0.113.5, 198.51.100.1")])
                    .await
            ),
            429
        );
        assert_eq!(bridge.health().await["clients"], 2);
    })
    .await;
}

#[tokio::test]
async fn origin_allow_list() {
    within(30, async {
        let dashd = FakeDashd::silent().await;
        let mut config = config(vec![target(dashd.addr)]);
        config.allowed_origins = vec!["https://wallet.example".to_owned()];
        let bridge = RunningBridge::start(config).await;
        assert_eq!(refusal_status(bridge.connect_with("/", &[]).await), 403);
        assert_eq!(
            refusal_status(
                bridge
                    .connect_with("/", &[("origin", "https://evil.example")])
                    .await
            ),
            403
        );
        bridge
            .connect_with("/", &[("origin", "https://wallet.example")])
            .await
            .unwrap();
    })
    .await;
}

#[tokio::test]
async fn idle_connections_are_closed() {
    within(30, async {
        let dashd = FakeDashd::silent().await;
        let mut config = config(vec![target(dashd.addr)]);
        config.idle_timeout = Duration::from_millis(300);
        let bridge = RunningBridge::start(config).await;
        let started = Instant::now();
        let mut client = bridge.connect().await;
        assert_closed(&mut client, 1000, "idle timeout").await;
        let elapsed = started.elapsed();
        assert!(elapsed >= Duration::from_millis(300), "{elapsed:?}");
    })
    .await;
}

#[tokio::test]
async fn silent_sockets_hit_the_handshake_timeout() {
    within(30, async {
        let dashd = FakeDashd::silent().await;
        let mut config = config(vec![target(dashd.addr)]);
        config.handshake_timeout = Duration::from_millis(300);
        let bridge = RunningBridge::start(config).await;
        let started = Instant::now();
        let mut socket = TcpStream::connect(bridge.addr).await.unwrap();
        let mut buf = Vec::new();
        let _ = socket.read_to_end(&mut buf).await;
        assert!(started.elapsed() >= Duration::from_millis(300));
        bridge.wait_for_health("connections", 0).await;
        assert_eq!(bridge.health().await["rejected_total"], 1);
    })
    .await;
}

#[tokio::test]
async fn health_endpoint_reports_connections() {
    within(30, async {
        let dashd = FakeDashd::silent().await;
        let bridge = RunningBridge::start(config(vec![target(dashd.addr)])).await;
        let _a = bridge.connect().await;
        let _b = bridge.connect().await;
        bridge.wait_for_health("relays_active", 2).await;
        let report = bridge.health().await;
        assert_eq!(report["status"], "ok");
        assert_eq!(report["network"], "testnet");
        assert_eq!(report["mode"], "dash");
        assert_eq!(report["connections"], 2);
        assert_eq!(report["accepted_total"], 2);
        assert_eq!(bridge.http_get("/other").await.0, 404);
    })
    .await;
}

#[tokio::test]
async fn graceful_shutdown_closes_every_connection() {
    within(30, async {
        let mut dashd = FakeDashd::silent().await;
        let mut bridge = RunningBridge::start(config(vec![target(dashd.addr)])).await;
        let addr = bridge.addr;
        let mut a = bridge.connect().await;
        let mut b = bridge.connect().await;
        bridge.wait_for_health("relays_active", 2).await;
        let started = Instant::now();
        bridge.stop();
        // The clients do not answer the close frames yet: shutdown waits.
        bridge.wait_for_health("status", "shutting_down").await;
        assert!(
            TcpStream::connect(addr).await.is_err(),
            "no longer accepting"
        );
        assert_closed(&mut a, 1001, "shutting down").await;
        assert_closed(&mut b, 1001, "shutting down").await;
        bridge.shutdown().await;
        assert!(started.elapsed() < Duration::from_secs(3));
        dashd.next_received().await;
        dashd.next_received().await;
    })
    .await;
}
