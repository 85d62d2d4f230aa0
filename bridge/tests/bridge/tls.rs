//! Built-in TLS: `wss://` straight to the bridge, and the certificate
//! reloaded by the binary on SIGHUP.

use crate::support::*;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use tokio::net::TcpStream;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName};
use tokio_rustls::rustls::{ClientConfig, RootCertStore};
use tokio_rustls::TlsConnector;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

/// A temporary folder removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("dashlight-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Writes a self-signed certificate for 127.0.0.1 to `cert` and its key to `key`.
fn make_certificate(cert: &Path, key: &Path) {
    let status = Command::new("openssl")
        .args(["req", "-x509", "-newkey", "ec", "-pkeyopt"])
        .args(["ec_paramgen_curve:prime256v1", "-nodes", "-days", "1"])
        .args([
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ])
        .args(["-addext", "basicConstraints=critical,CA:FALSE"])
        .args(["-addext", "extendedKeyUsage=serverAuth"])
        .arg("-keyout")
        .arg(key)
        .arg("-out")
        .arg(cert)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("openssl");
    assert!(status.success());
}

/// Opens `wss://addr/` trusting only the certificate in `trusted`.
async fn wss_connect(
    addr: &str,
    trusted: &Path,
) -> Result<WebSocketStream<tokio_rustls::client::TlsStream<TcpStream>>, String> {
    let mut roots = RootCertStore::empty();
    let der = CertificateDer::from_pem_file(trusted).unwrap();
    roots.add(der).unwrap();
    #[allow(deprecated)]
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let tcp = TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
    let name = ServerName::try_from("127.0.0.1").unwrap();
    let tls = TlsConnector::from(Arc::new(config))
        .connect(name, tcp)
        .await
        .map_err(|e| e.to_string())?;
    let (ws, _) = tokio_tungstenite::client_async(format!("wss://{addr}/"), tls)
        .await
        .map_err(|e| e.to_string())?;
    Ok(ws)
}

#[tokio::test]
async fn wss_is_served_with_the_configured_certificate() {
    within(30, async {
        let dir = TempDir::new("tls-inproc");
        let (cert, key) = (dir.0.join("cert.pem"), dir.0.join("key.pem"));
        make_certificate(&cert, &key);
        let dashd = FakeDashd::sending(wire("verack", &[]), &[24]).await;
        let mut config = config(vec![target(dashd.addr)]);
        config.tls_cert = Some(cert.clone());
        config.tls_key = Some(key);
        let bridge = RunningBridge::start(config).await;
        let mut client = wss_connect(&bridge.addr.to_string(), &cert).await.unwrap();
        use futures_util::StreamExt;
        let got = within(10, client.next()).await;
        assert!(matches!(got, Some(Ok(Message::Binary(data))) if data.as_ref() == wire("verack", &[]).as_slice()));
        assert!(
            bridge.connect_with("/", &[]).await.is_err(),
            "plain ws:// is refused"
        );
    })
    .await;
}

#[tokio::test]
async fn the_binary_reloads_its_certificate_on_sighup() {
    within(60, async {
        let dir = TempDir::new("tls-sighup");
        let (cert, key) = (dir.0.join("cert.pem"), dir.0.join("key.pem"));
        let (old, new) = (dir.0.join("old.pem"), dir.0.join("new.pem"));
        make_certificate(&cert, &key);
        std::fs::copy(&cert, &old).unwrap();
        let dashd = FakeDashd::silent().await;
        let (mut child, listen) = spawn_bridge(&[
            "--target",
            &dashd.addr.to_string(),
            "--tls-cert",
            cert.to_str().unwrap(),
            "--tls-key",
            key.to_str().unwrap(),
        ])
        .await;
        assert!(wss_connect(&listen, &old).await.is_ok());

        make_certificate(&new, &dir.0.join("new-key.pem"));
        std::fs::copy(&new, &cert).unwrap();
        std::fs::copy(dir.0.join("new-key.pem"), &key).unwrap();
        let status = Command::new("kill")
            .args(["-HUP", &child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
        while wss_connect(&listen, &new).await.is_err() {
            assert!(
                tokio::time::Instant::now() < deadline,
                "new certificate not served"
            );
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        assert!(
            wss_connect(&listen, &old).await.is_err(),
            "the old certificate is no longer served"
        );
        assert_eq!(
            child.try_wait().unwrap(),
            None,
            "SIGHUP does not stop the bridge"
        );
        let _ = child.kill();
        let _ = child.wait();
    })
    .await;
}
