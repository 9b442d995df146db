//! A stand-in for a Slack incoming webhook on 127.0.0.1, for the tests
//! that post briefings.

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
pub struct FakeSlack {
    port: u16,
    bodies: Arc<Mutex<Vec<(String, String)>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl FakeSlack {
    pub fn start(script: Vec<Reply>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let bodies: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
        let stop = Arc::new(AtomicBool::new(false));
        let script = Arc::new(Mutex::new(VecDeque::from(script)));
        let (b, s) = (bodies.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            for conn in listener.incoming() {
                if s.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let next = script.lock().unwrap().pop_front().unwrap_or_else(ok);
                let b = b.clone();
                std::thread::spawn(move || serve(conn, next, b));
            }
        });
        Self {
            port,
            bodies,
            stop,
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
        self.bodies.lock().unwrap().clone()
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

fn serve(conn: TcpStream, reply: Reply, bodies: Arc<Mutex<Vec<(String, String)>>>) {
    let mut reader = BufReader::new(conn.try_clone().unwrap());
    let mut length = 0;
    let mut path = String::new();
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
        if line == "\r\n" {
            break;
        }
    }
    let mut body = vec![0; length];
    if reader.read_exact(&mut body).is_err() {
        return;
    }
    bodies
        .lock()
        .unwrap()
        .push((path, String::from_utf8_lossy(&body).into_owned()));
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
