//! Real sockets on 127.0.0.1: a fake dashd, a bridge running in-process,
//! and WebSocket clients.

use dashlight::encode::write_compact_size;
use dashlight::network::Network;
use dashlight::protocol::framing::{Command, RawMessage, StreamDecoder};
use dashlight_bridge::{Bridge, Config, Target};
use futures_util::{SinkExt, StreamExt};
use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// The real testnet headers every relay test carries.
pub const HEADERS_FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../shared/fixtures/testnet/headers/testnet_headers_898560_947248.bin"
);

/// A WebSocket client connection.
pub type Client = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Fails the test when `future` takes longer than `secs`.
pub async fn within<T>(secs: u64, future: impl Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(secs), future)
        .await
        .expect("timed out")
}

/// The fixture's 80-byte headers.
pub fn fixture_headers() -> Vec<u8> {
    let bytes = std::fs::read(HEADERS_FIXTURE).expect("headers fixture (../shared/fixtures)");
    assert_eq!(bytes.len() % 80, 0);
    bytes
}

/// A message's wire bytes on testnet.
pub fn wire(command: &str, payload: &[u8]) -> Vec<u8> {
    RawMessage {
        command: Command::new(command),
        payload: payload.to_vec(),
    }
    .to_wire(Network::Testnet)
}

/// `headers` messages (up to 2,000 headers each) carrying `headers`.
pub fn headers_messages(headers: &[u8]) -> Vec<Vec<u8>> {
    headers
        .chunks(2000 * 80)
        .map(|chunk| {
            let mut payload = Vec::with_capacity(chunk.len() + chunk.len() / 80 + 3);
            write_compact_size(&mut payload, (chunk.len() / 80) as u64);
            for header in chunk.chunks(80) {
                payload.extend_from_slice(header);
                payload.push(0);
            }
            wire("headers", &payload)
        })
        .collect()
}

/// The headers carried by a stream of `headers` messages, checking framing.
pub fn headers_in(stream: &[u8]) -> Vec<u8> {
    let mut decoder = StreamDecoder::new(Network::Testnet);
    decoder.feed(stream);
    let mut out = Vec::new();
    while let Some(message) = decoder.next_message().expect("valid stream") {
        assert_eq!(message.command, Command::new("headers"));
        let mut reader = dashlight::encode::Reader::new(&message.payload);
        let count = reader.read_compact_size().unwrap();
        for _ in 0..count {
            out.extend_from_slice(reader.read_bytes(80).unwrap());
            assert_eq!(reader.read_u8().unwrap(), 0);
        }
        reader.finish().unwrap();
    }
    assert_eq!(decoder.buffered(), 0);
    out
}

/// Deterministic pseudo-random bytes.
pub fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed | 1;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect()
}

/// Cuts `bytes` into pieces whose sizes cycle through `sizes`.
pub fn cut<'a>(bytes: &'a [u8], sizes: &'a [usize]) -> Vec<&'a [u8]> {
    let mut pieces = Vec::new();
    let mut rest = bytes;
    for size in sizes.iter().cycle() {
        if rest.is_empty() {
            break;
        }
        let (piece, tail) = rest.split_at((*size).min(rest.len()));
        pieces.push(piece);
        rest = tail;
    }
    pieces
}

/// A stand-in for dashd on 127.0.0.1: runs `serve` on every connection and
/// reports what each connection received once it ends.
pub struct FakeDashd {
    /// Its address.
    pub addr: SocketAddr,
    accepted: Arc<AtomicUsize>,
    received: mpsc::UnboundedReceiver<Vec<u8>>,
    task: JoinHandle<()>,
}

impl FakeDashd {
    /// Starts a fake dashd whose connections are served by `serve`, which is
    /// given the write half; everything read is collected.
    pub async fn start<F, Fut>(serve: F) -> FakeDashd
    where
        F: Fn(tokio::net::tcp::OwnedWriteHalf) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let accepted = Arc::new(AtomicUsize::new(0));
        let (tx, received) = mpsc::unbounded_channel();
        let serve = Arc::new(serve);
        let count = Arc::clone(&accepted);
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                count.fetch_add(1, Ordering::SeqCst);
                let (mut read, write) = stream.into_split();
                let tx = tx.clone();
                tokio::spawn(serve(write));
                tokio::spawn(async move {
                    let mut got = Vec::new();
                    let _ = read.read_to_end(&mut got).await;
                    let _ = tx.send(got);
                });
            }
        });
        FakeDashd {
            addr,
            accepted,
            received,
            task,
        }
    }

    /// A fake dashd that sends nothing.
    pub async fn silent() -> FakeDashd {
        Self::start(|write| async move {
            tokio::time::sleep(Duration::from_secs(60)).await;
            drop(write);
        })
        .await
    }

    /// A fake dashd that sends `bytes` in pieces of the given sizes, then
    /// keeps the connection open.
    pub async fn sending(bytes: Vec<u8>, sizes: &'static [usize]) -> FakeDashd {
        let bytes = Arc::new(bytes);
        Self::start(move |mut write| {
            let bytes = Arc::clone(&bytes);
            async move {
                for piece in cut(&bytes, sizes) {
                    if write.write_all(piece).await.is_err() {
                        return;
                    }
                    tokio::task::yield_now().await;
                }
                tokio::time::sleep(Duration::from_secs(60)).await;
            }
        })
        .await
    }

    /// Connections accepted so far.
    pub fn accepted(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }

    /// Everything the next finished connection sent.
    pub async fn next_received(&mut self) -> Vec<u8> {
        within(10, self.received.recv()).await.unwrap()
    }
}

impl Drop for FakeDashd {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Settings for tests: testnet, loopback allowed, no rate limit, short timeouts.
pub fn config(targets: Vec<Target>) -> Config {
    let mut config = Config::new(Network::Testnet, targets);
    config.listen = "127.0.0.1:0".parse().unwrap();
    config.health_listen = Some("127.0.0.1:0".parse().unwrap());
    config.allow_private = true;
    config.rate_limit = None;
    config.handshake_timeout = Duration::from_secs(2);
    config.idle_timeout = Duration::from_secs(10);
    config.shutdown_grace = Duration::from_secs(3);
    config
}

/// The default target pointing at a fake dashd.
pub fn target(addr: SocketAddr) -> Target {
    Target::new("default", &addr.to_string()).unwrap()
}

/// A bridge running in this process.
pub struct RunningBridge {
    /// Where clients connect.
    pub addr: SocketAddr,
    /// The health endpoint.
    pub health: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

impl RunningBridge {
    /// Binds and runs a bridge with `config`.
    pub async fn start(config: Config) -> RunningBridge {
        let bridge = Bridge::bind(config).await.expect("bridge starts");
        let addr = bridge.local_addr().unwrap();
        let health = bridge.health_addr().unwrap();
        let (stop, stopped) = oneshot::channel();
        let task = tokio::spawn(bridge.run(async {
            let _ = stopped.await;
        }));
        RunningBridge {
            addr,
            health,
            stop: Some(stop),
            task,
        }
    }

    /// The URL of `path` on this bridge.
    pub fn url(&self, path: &str) -> String {
        format!("ws://{}{}", self.addr, path)
    }

    /// Connects a client to `path` with extra request headers.
    pub async fn connect_with(
        &self,
        path: &str,
        headers: &[(&'static str, &str)],
    ) -> Result<Client, tokio_tungstenite::tungstenite::Error> {
        let mut request = self.url(path).into_client_request().unwrap();
        for (name, value) in headers {
            request.headers_mut().insert(*name, value.parse().unwrap());
        }
        within(10, tokio_tungstenite::connect_async(request))
            .await
            .map(|(ws, _)| ws)
    }

    /// Connects a client to the default target.
    pub async fn connect(&self) -> Client {
        self.connect_with("/", &[]).await.expect("client connects")
    }

    /// `GET path` on the health endpoint: status code and body.
    pub async fn http_get(&self, path: &str) -> (u16, String) {
        let mut stream = TcpStream::connect(self.health).await.unwrap();
        let request = format!("GET {path} HTTP/1.1\r\nHost: bridge\r\n\r\n");
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut response = String::new();
        within(5, stream.read_to_string(&mut response))
            .await
            .unwrap();
        let status = response
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap();
        let body = response
            .split_once("\r\n\r\n")
            .map(|(_, body)| body.to_owned())
            .unwrap_or_default();
        (status, body)
    }

    /// The health report as JSON.
    pub async fn health(&self) -> serde_json::Value {
        let (status, body) = self.http_get("/health").await;
        assert_eq!(status, 200);
        serde_json::from_str(&body).unwrap()
    }

    /// Waits until the health report's `key` equals `value`.
    pub async fn wait_for_health(&self, key: &str, value: impl Into<serde_json::Value>) {
        let value = value.into();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        loop {
            let report = self.health().await;
            if report[key] == value {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "health {key} is {} instead of {value}",
                report[key]
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Asks the bridge to shut down.
    pub fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }

    /// Asks the bridge to shut down and waits until `run` returns.
    pub async fn shutdown(mut self) {
        self.stop();
        within(10, &mut self.task).await.unwrap();
    }
}

impl Drop for RunningBridge {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Sends each piece as one binary frame.
pub async fn send_frames(client: &mut Client, pieces: &[&[u8]]) {
    for piece in pieces {
        client.send(Message::binary(piece.to_vec())).await.unwrap();
    }
}

/// Reads binary messages until `len` bytes arrived and returns them.
pub async fn receive_messages(client: &mut Client, len: usize) -> Vec<Vec<u8>> {
    let mut messages = Vec::new();
    let mut got = 0;
    while got < len {
        match within(10, client.next()).await {
            Some(Ok(Message::Binary(data))) => {
                got += data.len();
                messages.push(data.to_vec());
            }
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
            other => panic!("expected data, got {other:?}"),
        }
    }
    messages
}

/// Reads binary messages until `len` bytes arrived and returns the bytes.
pub async fn receive_bytes(client: &mut Client, len: usize) -> Vec<u8> {
    receive_messages(client, len).await.concat()
}

/// Reads until the bridge's close frame and returns it; data frames before
/// it are skipped.
pub async fn close_frame(client: &mut Client) -> CloseFrame {
    loop {
        match within(10, client.next()).await {
            Some(Ok(Message::Close(Some(frame)))) => {
                // Sends the close reply tungstenite queued.
                let _ = client.flush().await;
                return frame;
            }
            Some(Ok(Message::Close(None))) => panic!("close frame without a code"),
            Some(Ok(_)) => {}
            other => panic!("expected a close frame, got {other:?}"),
        }
    }
}

/// Asserts the bridge closed `client` with `code` and a reason containing `text`.
pub async fn assert_closed(client: &mut Client, code: u16, text: &str) {
    let frame = close_frame(client).await;
    assert_eq!(u16::from(frame.code), code, "reason: {}", frame.reason);
    assert!(
        frame.reason.as_str().contains(text),
        "reason {:?} lacks {text:?}",
        frame.reason.as_str()
    );
}

/// The HTTP status of a refused handshake.
pub fn refusal_status(result: Result<Client, tokio_tungstenite::tungstenite::Error>) -> u16 {
    match result {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => response.status().as_u16(),
        Err(other) => panic!("expected an HTTP refusal, got {other}"),
        Ok(_) => panic!("expected an HTTP refusal, the handshake succeeded"),
    }
}

/// Starts the `dashlight-bridge` binary on 127.0.0.1 (any port, testnet,
/// private targets allowed, JSON logs) with extra `args`, and returns it
/// with the address it listens on.
pub async fn spawn_bridge(args: &[&str]) -> (std::process::Child, String) {
    use std::io::{BufRead, BufReader};
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_dashlight-bridge"))
        .args(["--listen", "127.0.0.1:0", "--network", "testnet"])
        .args(["--allow-private", "--log-format", "json"])
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (lines_tx, mut lines) = mpsc::unbounded_channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = lines_tx.send(line);
        }
    });
    let listen = within(30, async {
        loop {
            let line = lines.recv().await.expect("bridge output");
            let json: serde_json::Value = serde_json::from_str(&line).expect("JSON log line");
            if json["message"] == "bridge listening" {
                break json["listen"].as_str().unwrap().to_owned();
            }
        }
    })
    .await;
    (child, listen)
}
