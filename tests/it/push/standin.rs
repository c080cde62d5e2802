//! What the marketplace mocks share: Prism serving a marketplace's own API document and
//! rejecting every request that does not match it, and a small HTTP server of our own in
//! front of it for what a generated mock cannot do (tokens, state, rate limits, refusals).

use std::io::{BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;

pub use crate::loopback::Request;
use crate::loopback::read_request;

/// The Prism process; killed when dropped.
pub struct Prism {
    child: Child,
    pub port: u16,
}

impl Drop for Prism {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts Prism on a document in tests/fixtures/vendor/, or says how to install it. `PIMFEED_SKIP_PRISM=1` skips the
/// test on a machine without Node; CI never sets it (`.ci/run` installs Prism).
pub fn start_prism(document: &str) -> Option<Prism> {
    // reqwest is built without a default TLS provider; the stand-ins' clients need one.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let prism = manifest.join("tests/prism/node_modules/.bin/prism");
    if !prism.exists() {
        if std::env::var_os("PIMFEED_SKIP_PRISM").is_some() {
            eprintln!("skipped: Prism is not installed and PIMFEED_SKIP_PRISM is set");
            return None;
        }
        panic!(
            "Prism is not installed: run tests/prism/setup.sh (.ci/run does), or set PIMFEED_SKIP_PRISM=1"
        );
    }
    let port = free_port();
    let child = Command::new(prism)
        .args(["mock", "--host", "127.0.0.1", "--port", &port.to_string()])
        .arg(manifest.join("tests/fixtures/vendor").join(document))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start prism");
    let prism = Prism { child, port };
    // Bounded wait until it answers (a few seconds; a cold CI disk takes longer).
    let deadline = Instant::now() + Duration::from_secs(90);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "Prism did not start on port {port}"
        );
        thread::sleep(Duration::from_millis(100));
    }
    Some(prism)
}

/// A request as the stand-in saw it, with the status it answered.
#[derive(Debug, Clone)]
pub struct Logged {
    pub method: String,
    pub target: String,
    pub body: String,
    pub status: u16,
}

pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

pub fn reply(status: u16, body: Value) -> Reply {
    Reply {
        status,
        headers: Vec::new(),
        body: if body.is_null() {
            String::new()
        } else {
            body.to_string()
        },
    }
}

pub type Handler = dyn Fn(&Request) -> Reply + Send + Sync;

/// A stand-in on a free loopback port; it stops when dropped.
pub struct Server {
    pub port: u16,
    stop: Arc<AtomicBool>,
    log: Arc<Mutex<Vec<Logged>>>,
}

impl Server {
    pub fn start(handler: Arc<Handler>) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let stop = Arc::new(AtomicBool::new(false));
        let log = Arc::new(Mutex::new(Vec::new()));
        let (stop_flag, requests) = (stop.clone(), log.clone());
        thread::spawn(move || {
            // Bounded: a server left behind by a failed test ends on its own.
            let deadline = Instant::now() + Duration::from_secs(300);
            while !stop_flag.load(Ordering::Relaxed) && Instant::now() < deadline {
                match listener.accept() {
                    Ok((stream, _)) => {
                        let (handler, requests) = (handler.clone(), requests.clone());
                        thread::spawn(move || {
                            let _ = serve(stream, &*handler, &requests);
                        });
                    }
                    Err(_) => thread::sleep(Duration::from_millis(2)),
                }
            }
        });
        Server { port, stop, log }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// The API requests (not the token requests) seen so far, and forgets them.
    pub fn take_calls(&self) -> Vec<Logged> {
        let mut log = self.log.lock().unwrap();
        std::mem::take(&mut *log)
            .into_iter()
            .filter(|r| r.target != "/token")
            .collect()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn serve(stream: TcpStream, handler: &Handler, log: &Mutex<Vec<Logged>>) -> std::io::Result<()> {
    stream.set_nonblocking(false)?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    // One request per connection would make every call pay a TCP handshake that the real
    // API's keep-alive spares; serve requests until the client closes.
    loop {
        let Some(request) = read_request(&mut reader)? else {
            return Ok(());
        };
        let answer = handler(&request);
        log.lock().unwrap().push(Logged {
            method: request.method.clone(),
            target: request.target.clone(),
            body: request.body.clone(),
            status: answer.status,
        });
        let mut stream = reader.get_ref().try_clone()?;
        let content_type = answer
            .headers
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case("content-type"))
            .map_or("application/json", |(_, value)| value.as_str())
            .to_string();
        let mut head = format!(
            "HTTP/1.1 {} X\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n",
            answer.status,
            answer.body.len()
        );
        for (name, value) in answer
            .headers
            .iter()
            .filter(|(name, _)| !name.eq_ignore_ascii_case("content-type"))
        {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str("\r\n");
        // One write: head and body in two packets would wait out Nagle's algorithm.
        head.push_str(&answer.body);
        stream.write_all(head.as_bytes())?;
        stream.flush()?;
    }
}

/// Sends the request to Prism; its answer when Prism rejects it, `None` when it is valid.
pub fn forward_to_prism(
    client: &reqwest::blocking::Client,
    port: u16,
    request: &Request,
) -> Option<Reply> {
    let mut forwarded = client.request(
        request.method.parse().unwrap(),
        format!("http://127.0.0.1:{port}{}", request.target),
    );
    for name in [
        "authorization",
        "x-amz-access-token",
        "accept",
        "content-type",
    ] {
        if let Some(value) = request.headers.get(name) {
            forwarded = forwarded.header(name, value);
        }
    }
    if !request.body.is_empty() {
        forwarded = forwarded.body(request.body.clone());
    }
    let response = forwarded.send().expect("Prism answers");
    let status = response.status().as_u16();
    let text = response.text().unwrap_or_default();
    if (200..300).contains(&status) {
        None
    } else {
        Some(Reply {
            status,
            headers: Vec::new(),
            body: text,
        })
    }
}
