//! A stand-in receiver on 127.0.0.1 — a Slack incoming webhook for the
//! briefing tests, and any alert route's receiver (PagerDuty, Teams, a
//! signed webhook) for the alert tests — that answers from a script and
//! keeps every request.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// One scripted answer.
#[derive(Clone)]
pub struct Reply {
    pub status: u16,
    pub body: &'static str,
    pub headers: Vec<(&'static str, &'static str)>,
    pub delay: Duration,
}

pub fn ok() -> Reply {
    reply(200, "ok")
}

pub fn reply(status: u16, body: &'static str) -> Reply {
    Reply {
        status,
        body,
        headers: vec![],
        delay: Duration::ZERO,
    }
}

/// A stand-in for hooks.slack.com on 127.0.0.1: answers from a script
/// (then `200 ok`), and keeps every request's path and body. Stopped when
/// dropped.
/// One request as received.
#[derive(Clone, Debug)]
pub struct Request {
    pub path: String,
    /// Header names lower-cased, in arrival order.
    pub headers: Vec<(String, String)>,
    pub body: String,
    /// When its body had arrived.
    pub at: std::time::SystemTime,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

pub struct FakeSlack {
    port: u16,
    bodies: Arc<Mutex<Vec<Request>>>,
    stop: Arc<AtomicBool>,
    script: Arc<Mutex<VecDeque<Reply>>>,
    thread: Option<JoinHandle<()>>,
}

impl FakeSlack {
    pub fn start(script: Vec<Reply>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let bodies: Arc<Mutex<Vec<Request>>> = Arc::default();
        let stop = Arc::new(AtomicBool::new(false));
        let script = Arc::new(Mutex::new(VecDeque::from(script)));
        let (b, s, sc) = (bodies.clone(), stop.clone(), script.clone());
        let thread = std::thread::spawn(move || {
            for conn in listener.incoming() {
                if s.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let next = sc.lock().unwrap().pop_front().unwrap_or_else(ok);
                let b = b.clone();
                std::thread::spawn(move || serve(conn, next, b));
            }
        });
        Self {
            port,
            bodies,
            stop,
            script,
            thread: Some(thread),
        }
    }

    pub fn url(&self) -> String {
        format!(
            "http://127.0.0.1:{}/services/T000/B000/XXXXSECRETXXXX",
            self.port
        )
    }

    pub fn bodies(&self) -> Vec<String> {
        self.posts().into_iter().map(|(_, body)| body).collect()
    }

    /// Every request as (path, body), in arrival order.
    pub fn posts(&self) -> Vec<(String, String)> {
        self.requests()
            .into_iter()
            .map(|r| (r.path, r.body))
            .collect()
    }

    /// Every request whole, in arrival order.
    pub fn requests(&self) -> Vec<Request> {
        self.bodies.lock().unwrap().clone()
    }

    /// Adds answers to the end of the script.
    pub fn then(&self, replies: Vec<Reply>) {
        self.script.lock().unwrap().extend(replies);
    }

    /// The URL of this server with another path.
    pub fn url_at(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }
}

impl Drop for FakeSlack {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn serve(conn: TcpStream, reply: Reply, bodies: Arc<Mutex<Vec<Request>>>) {
    let mut reader = BufReader::new(conn.try_clone().unwrap());
    let mut length = 0;
    let mut path = String::new();
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        if path.is_empty() {
            // The request line: METHOD PATH VERSION.
            path = line.split_whitespace().nth(1).unwrap_or("").to_string();
        }
        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            length = v.trim().parse().unwrap_or(0);
        }
        if let Some((k, v)) = line.split_once(':') {
            headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
        }
        if line == "\r\n" {
            break;
        }
    }
    let mut body = vec![0; length];
    if reader.read_exact(&mut body).is_err() {
        return;
    }
    bodies.lock().unwrap().push(Request {
        path,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
        at: std::time::SystemTime::now(),
    });
    std::thread::sleep(reply.delay);
    let mut conn = conn;
    let mut head = format!(
        "HTTP/1.1 {} X\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n",
        reply.status,
        reply.body.len()
    );
    for (k, v) in &reply.headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    let _ = conn.write_all(format!("{head}\r\n{}", reply.body).as_bytes());
}
