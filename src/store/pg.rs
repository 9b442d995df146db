//! PostgreSQL: connecting (URL, password, TLS), a connection thread per
//! connection, a small pool, and the translation of the store's values
//! and placeholders.
//!
//! The store is synchronous (SQLite is), and is used from async code on
//! either kind of tokio runtime. The synchronous `postgres` client runs a
//! runtime of its own and must not be called from inside another, so each
//! connection lives on a thread of its own and the store hands it work
//! over a channel, waiting for the answer as it waits for SQLite's lock.
//! Connections are pooled per URL, so the daemon's ticks and jobs do not
//! connect afresh each time.
//!
//! The password is never in the URL tfdrift is given (it would be in the
//! config file, the process list and the logs): it comes from
//! `PGPASSWORD` or the password file (`PGPASSFILE`, else `~/.pgpass`),
//! as libpq finds it. The URL shown anywhere is [`redact`]ed.

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::mpsc;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use postgres::types::{IsNull, ToSql, Type, to_sql_checked};
use postgres::{Client, Statement};
use rusqlite::types::Value;

/// What went wrong talking to PostgreSQL.
#[derive(Debug, thiserror::Error)]
pub enum PgError {
    #[error("{}", describe(.0))]
    Db(#[from] postgres::Error),
    #[error("{message} in: {sql}")]
    Statement { message: String, sql: String },
    #[error("the connection's thread has ended (the connection was lost)")]
    Gone,
    #[error("column {column} has type {ty}, which the history never uses")]
    Type { column: String, ty: String },
    #[error("{0}")]
    Config(String),
}

impl PgError {
    /// A lost or refused connection (worth retrying on a new one), as
    /// opposed to a statement the server rejected.
    pub fn is_connection(&self) -> bool {
        match self {
            PgError::Gone => true,
            PgError::Db(e) => {
                e.is_closed()
                    || e.code().is_some_and(|c| {
                        // Class 08: connection exception; 57P01-03: the
                        // server is shutting down or restarting.
                        c.code().starts_with("08")
                            || matches!(c.code(), "57P01" | "57P02" | "57P03")
                    })
                    // Connecting or talking failed below SQL.
                    || std::error::Error::source(e).is_some_and(|s| s.is::<std::io::Error>())
            }
            _ => false,
        }
    }
}

/// The server's own words for an error it sent (the client's `Display`
/// says only "db error"), else the client's, with its cause.
fn describe(e: &postgres::Error) -> String {
    if let Some(db) = e.as_db_error() {
        let mut text = format!("{} ({})", db.message(), db.code().code());
        if let Some(detail) = db.detail() {
            text.push_str(&format!(": {detail}"));
        }
        return text;
    }
    match std::error::Error::source(e) {
        Some(cause) => format!("{e}: {cause}"),
        None => e.to_string(),
    }
}

/// Whether `s` names a PostgreSQL database rather than a file.
pub fn is_url(s: &str) -> bool {
    s.starts_with("postgres://") || s.starts_with("postgresql://")
}

/// The URL as it may be shown: user, host, port and database; never a
/// password, never the query string.
pub fn redact(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("postgres", url));
    let rest = rest.split(['?', '#']).next().unwrap_or("");
    let (auth, host) = match rest.rsplit_once('@') {
        Some((auth, host)) => (Some(auth), host),
        None => (None, rest),
    };
    match auth {
        Some(a) => {
            let user = a.split(':').next().unwrap_or("");
            format!("{scheme}://{user}@{host}")
        }
        None => format!("{scheme}://{host}"),
    }
}

/// What tfdrift reads from the URL beyond what the client does.
struct Target {
    config: postgres::Config,
    /// `sslrootcert=FILE`: the CA to trust instead of the system's.
    root_cert: Option<String>,
}

fn parse(url: &str) -> Result<Target, PgError> {
    // `sslrootcert` is libpq's; the client rejects options it does not
    // know, so it is taken out here.
    let (base, query) = url.split_once('?').unwrap_or((url, ""));
    let mut root_cert = None;
    let mut kept = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        match pair.split_once('=') {
            Some(("sslrootcert", v)) => root_cert = Some(v.to_string()),
            _ => kept.push(pair),
        }
    }
    let rebuilt = if kept.is_empty() {
        base.to_string()
    } else {
        format!("{base}?{}", kept.join("&"))
    };
    let mut config = postgres::Config::from_str(&rebuilt)
        .map_err(|e| PgError::Config(format!("not a PostgreSQL URL: {e}")))?;
    if config.get_password().is_some() {
        return Err(PgError::Config(
            "the URL holds a password; put it in PGPASSWORD or ~/.pgpass instead, so it stays out \
             of the config, the process list and the logs"
                .into(),
        ));
    }
    if config.get_user().is_none() {
        let user = std::env::var("PGUSER")
            .or_else(|_| std::env::var("USER"))
            .map_err(|_| PgError::Config("the URL names no user (and PGUSER is unset)".into()))?;
        config.user(&user);
    }
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(Duration::from_secs(10));
    }
    config.application_name("tfdrift");
    if let Some(password) = password(&config) {
        config.password(password);
    }
    Ok(Target { config, root_cert })
}

/// `PGPASSWORD`, else the first matching line of the password file
/// (`host:port:database:user:password`, `*` matching anything, `\`
/// escaping `:` and `\`), as libpq reads it.
fn password(config: &postgres::Config) -> Option<String> {
    // Empty is unset, as libpq reads it.
    if let Some(p) = std::env::var("PGPASSWORD").ok().filter(|p| !p.is_empty()) {
        return Some(p);
    }
    let file = std::env::var_os("PGPASSFILE")
        .map(std::path::PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| std::path::Path::new(&h).join(".pgpass")))?;
    let text = std::fs::read_to_string(&file).ok()?;
    let host = match config.get_hosts().first() {
        Some(postgres::config::Host::Tcp(h)) => h.clone(),
        #[cfg(unix)]
        Some(postgres::config::Host::Unix(_)) => "localhost".into(),
        None => "localhost".into(),
    };
    let port = config
        .get_ports()
        .first()
        .copied()
        .unwrap_or(5432)
        .to_string();
    let db = config
        .get_dbname()
        .or(config.get_user())
        .unwrap_or_default()
        .to_string();
    let user = config.get_user().unwrap_or_default().to_string();
    let wanted = [host, port, db, user];
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let fields = pgpass_fields(line);
        if fields.len() == 5
            && fields[..4]
                .iter()
                .zip(&wanted)
                .all(|(f, w)| f == "*" || f == w)
        {
            return Some(fields[4].clone());
        }
    }
    None
}

fn pgpass_fields(line: &str) -> Vec<String> {
    let mut fields = vec![String::new()];
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(n) = chars.next() {
                    fields.last_mut().expect("never empty").push(n);
                }
            }
            ':' if fields.len() < 5 => fields.push(String::new()),
            c => fields.last_mut().expect("never empty").push(c),
        }
    }
    fields
}

fn connect(url: &str) -> Result<Client, PgError> {
    connect_to(url).map_err(|e| match e {
        // The client's words for a server that asks for a password when
        // tfdrift found none.
        PgError::Db(e) if describe(&e).contains("password missing") => PgError::Config(
            "the server asks for a password, and there is none in PGPASSWORD or the password \
             file (PGPASSFILE, else ~/.pgpass)"
                .into(),
        ),
        other => other,
    })
}

fn connect_to(url: &str) -> Result<Client, PgError> {
    let target = parse(url)?;
    use postgres::config::SslMode;
    if target.config.get_ssl_mode() == SslMode::Disable {
        return Ok(target.config.connect(postgres::NoTls)?);
    }
    let mut roots = rustls::RootCertStore::empty();
    match &target.root_cert {
        Some(file) => {
            let pem = std::fs::read(file)
                .map_err(|e| PgError::Config(format!("sslrootcert {file}: {e}")))?;
            for cert in rustls_pemfile_certs(&pem)? {
                roots
                    .add(cert)
                    .map_err(|e| PgError::Config(format!("sslrootcert {file}: {e}")))?;
            }
        }
        None => {
            for cert in rustls_native_certs::load_native_certs().certs {
                // A system certificate rustls cannot use is skipped, as
                // every client of the system store does.
                let _ = roots.add(cert);
            }
        }
    }
    let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| PgError::Config(format!("TLS: {e}")))?
    .with_root_certificates(roots)
    .with_no_client_auth();
    Ok(target
        .config
        .connect(tokio_postgres_rustls::MakeRustlsConnect::new(tls))?)
}

/// The certificates of a PEM file.
fn rustls_pemfile_certs(
    pem: &[u8],
) -> Result<Vec<rustls::pki_types::CertificateDer<'static>>, PgError> {
    use rustls::pki_types::pem::PemObject;
    rustls::pki_types::CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| PgError::Config(format!("sslrootcert: {e}")))
}

type Work = Box<dyn FnOnce(&mut Session) + Send>;

/// What the connection's thread holds.
struct Session {
    client: Client,
    /// Prepared once per connection: the store runs few distinct
    /// statements, many times.
    statements: HashMap<String, Statement>,
    /// Between `BEGIN` and its `COMMIT` or `ROLLBACK`: not to be pooled.
    in_transaction: bool,
}

impl Session {
    fn statement(&mut self, sql: &str) -> Result<Statement, PgError> {
        if let Some(s) = self.statements.get(sql) {
            return Ok(s.clone());
        }
        // A statement the server refuses is tfdrift's bug: say which.
        let s = self
            .client
            .prepare(&placeholders(sql))
            .map_err(|e| match e.as_db_error() {
                Some(_) => PgError::Statement {
                    message: describe(&e),
                    sql: sql.split_whitespace().collect::<Vec<_>>().join(" "),
                },
                None => PgError::Db(e),
            })?;
        self.statements.insert(sql.to_string(), s.clone());
        Ok(s)
    }
}

/// One connection, served by its own thread.
pub struct Conn {
    work: mpsc::Sender<Work>,
    url: String,
}

impl Conn {
    /// A connection from the pool, or a new one.
    pub fn open(url: &str) -> Result<Self, PgError> {
        loop {
            let idle = {
                let mut pool = pool().lock().unwrap_or_else(|p| p.into_inner());
                pool.get_mut(url).and_then(Vec::pop)
            };
            let Some(conn) = idle else { break };
            // One whose server went away (a restart, a network cut) is
            // dropped, not pooled again: the client notices only when it
            // talks, so it is asked to, briefly.
            if conn
                .call(|s| s.client.is_valid(Duration::from_secs(2)).is_ok())
                .unwrap_or(false)
            {
                return Ok(conn);
            }
        }
        let (ready_tx, ready_rx) = mpsc::sync_channel(1);
        let (work_tx, work_rx) = mpsc::channel::<Work>();
        let owned = url.to_string();
        std::thread::Builder::new()
            .name("tfdrift-pg".into())
            .spawn(move || {
                let mut session = match connect(&owned) {
                    Ok(client) => {
                        let _ = ready_tx.send(Ok(()));
                        Session {
                            client,
                            statements: HashMap::new(),
                            in_transaction: false,
                        }
                    }
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                        return;
                    }
                };
                while let Ok(work) = work_rx.recv() {
                    work(&mut session);
                }
            })
            .map_err(|e| PgError::Config(format!("cannot start a connection thread: {e}")))?;
        ready_rx.recv().map_err(|_| PgError::Gone)??;
        Ok(Self {
            work: work_tx,
            url: url.to_string(),
        })
    }

    fn call<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Session) -> R + Send + 'static,
    ) -> Result<R, PgError> {
        let (tx, rx) = mpsc::sync_channel(1);
        self.work
            .send(Box::new(move |s| {
                let _ = tx.send(f(s));
            }))
            .map_err(|_| PgError::Gone)?;
        rx.recv().map_err(|_| PgError::Gone)
    }

    pub fn execute(&self, sql: &str, args: Vec<Value>) -> Result<usize, PgError> {
        let sql = sql.to_string();
        self.call(move |s| {
            let stmt = s.statement(&sql)?;
            let params: Vec<Arg> = args.into_iter().map(Arg).collect();
            let refs: Vec<&(dyn ToSql + Sync)> = params.iter().map(|p| p as _).collect();
            Ok(s.client.execute(&stmt, &refs)? as usize)
        })?
    }

    pub fn query(&self, sql: &str, args: Vec<Value>) -> Result<Vec<Vec<Value>>, PgError> {
        let sql = sql.to_string();
        self.call(move |s| {
            let stmt = s.statement(&sql)?;
            let params: Vec<Arg> = args.into_iter().map(Arg).collect();
            let refs: Vec<&(dyn ToSql + Sync)> = params.iter().map(|p| p as _).collect();
            let rows = s.client.query(&stmt, &refs)?;
            rows.iter().map(decode).collect()
        })?
    }

    pub fn batch(&self, sql: &str) -> Result<(), PgError> {
        let sql = sql.to_string();
        self.call(move |s| {
            match sql.as_str() {
                "BEGIN" => s.in_transaction = true,
                // Either ends it, even when the server answers an error.
                "COMMIT" | "ROLLBACK" => s.in_transaction = false,
                _ => {}
            }
            Ok(s.client.batch_execute(&sql)?)
        })?
    }
}

/// Back to the pool, if it is still a good connection outside any
/// transaction; else its thread ends and the connection closes.
impl Drop for Conn {
    fn drop(&mut self) {
        let idle = self
            .call(|s| !s.client.is_closed() && !s.in_transaction)
            .unwrap_or(false);
        if idle {
            let mut pool = pool().lock().unwrap_or_else(|p| p.into_inner());
            let conns = pool.entry(self.url.clone()).or_default();
            if conns.len() < POOL_IDLE {
                conns.push(Conn {
                    work: self.work.clone(),
                    url: self.url.clone(),
                });
            }
        }
    }
}

/// Idle connections kept per URL.
const POOL_IDLE: usize = 8;

fn pool() -> &'static Mutex<HashMap<String, Vec<Conn>>> {
    static POOL: OnceLock<Mutex<HashMap<String, Vec<Conn>>>> = OnceLock::new();
    POOL.get_or_init(Mutex::default)
}

/// `?N` (and bare `?`) to PostgreSQL's `$N`, outside quoted text.
pub(super) fn placeholders(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 8);
    let mut chars = sql.chars().peekable();
    let (mut quoted, mut next) = (false, 1);
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                quoted = !quoted;
                out.push(c);
            }
            '?' if !quoted => {
                let mut digits = String::new();
                while let Some(d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                    digits.push(*d);
                    chars.next();
                }
                if digits.is_empty() {
                    digits = next.to_string();
                    next += 1;
                }
                out.push('$');
                out.push_str(&digits);
            }
            c => out.push(c),
        }
    }
    out
}

/// A store value bound to whatever column type the server asks for.
#[derive(Debug)]
struct Arg(Value);

impl ToSql for Arg {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut bytes::BytesMut,
    ) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match (&self.0, ty) {
            (Value::Null, _) => Ok(IsNull::Yes),
            (Value::Integer(i), &Type::BOOL) => (*i != 0).to_sql(ty, out),
            (Value::Integer(i), &Type::INT8) => i.to_sql(ty, out),
            (Value::Integer(i), &Type::INT4) => i32::try_from(*i)?.to_sql(ty, out),
            (Value::Integer(i), &Type::INT2) => i16::try_from(*i)?.to_sql(ty, out),
            (Value::Integer(i), &Type::FLOAT8) => (*i as f64).to_sql(ty, out),
            (Value::Integer(i), t) if is_text(t) => i.to_string().to_sql(&Type::TEXT, out),
            (Value::Real(r), &Type::FLOAT8) => r.to_sql(ty, out),
            (Value::Real(r), &Type::FLOAT4) => (*r as f32).to_sql(ty, out),
            (Value::Text(s), t) if is_text(t) => s.as_str().to_sql(&Type::TEXT, out),
            (Value::Blob(b), &Type::BYTEA) => b.as_slice().to_sql(ty, out),
            (v, t) => Err(format!("cannot bind {v:?} to a {t} parameter").into()),
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

fn is_text(t: &Type) -> bool {
    matches!(
        *t,
        Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::UNKNOWN
    )
}

/// A row's columns as store values.
fn decode(row: &postgres::Row) -> Result<Vec<Value>, PgError> {
    row.columns()
        .iter()
        .enumerate()
        .map(|(i, col)| {
            let v = match *col.type_() {
                Type::INT8 => row.try_get::<_, Option<i64>>(i)?.map(Value::Integer),
                Type::INT4 => row
                    .try_get::<_, Option<i32>>(i)?
                    .map(|v| Value::Integer(v.into())),
                Type::INT2 => row
                    .try_get::<_, Option<i16>>(i)?
                    .map(|v| Value::Integer(v.into())),
                Type::BOOL => row
                    .try_get::<_, Option<bool>>(i)?
                    .map(|v| Value::Integer(v.into())),
                Type::FLOAT8 => row.try_get::<_, Option<f64>>(i)?.map(Value::Real),
                Type::FLOAT4 => row
                    .try_get::<_, Option<f32>>(i)?
                    .map(|v| Value::Real(v.into())),
                Type::BYTEA => row.try_get::<_, Option<Vec<u8>>>(i)?.map(Value::Blob),
                ref t if is_text(t) => row.try_get::<_, Option<String>>(i)?.map(Value::Text),
                ref t => {
                    return Err(PgError::Type {
                        column: col.name().to_string(),
                        ty: t.to_string(),
                    });
                }
            };
            Ok(v.unwrap_or(Value::Null))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_numbered_outside_quotes() {
        assert_eq!(
            placeholders("SELECT '?1' FROM t WHERE a = ?1 AND b = ?12 AND c = ?"),
            "SELECT '?1' FROM t WHERE a = $1 AND b = $12 AND c = $1"
        );
    }

    #[test]
    fn urls_are_shown_without_secrets() {
        assert_eq!(
            redact("postgres://tf:hunter2@db.internal:5433/drift?sslmode=require&password=x"),
            "postgres://tf@db.internal:5433/drift"
        );
        assert_eq!(redact("postgresql://db/drift"), "postgresql://db/drift");
    }

    #[test]
    fn a_password_in_the_url_is_refused() {
        let Err(e) = parse("postgres://tf:hunter2@localhost/drift") else {
            panic!("accepted a password in the URL");
        };
        assert!(e.to_string().contains("PGPASSWORD"), "{e}");
        assert!(!e.to_string().contains("hunter2"), "{e}");
    }

    #[test]
    fn pgpass_lines_unescape() {
        assert_eq!(
            pgpass_fields(r"db\:1:5432:*:tf:pa\:ss\\word"),
            ["db:1", "5432", "*", "tf", r"pa:ss\word"]
        );
    }
}
