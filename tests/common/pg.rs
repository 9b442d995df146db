//! PostgreSQL for the integration tests: a database of the test's own on
//! the shared server `scripts/test.sh` starts (`TFDRIFT_TEST_PG`), or a
//! private server of the test's own (`scripts/pg-server.sh`) for a test
//! that stops and starts it. Both are removed when dropped.

use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A private server on 127.0.0.1, stopped (and its files removed) when
/// dropped.
pub struct PgServer {
    dir: tempfile::TempDir,
    pub admin: String,
}

impl PgServer {
    pub fn start() -> Self {
        Self::start_with(&[])
    }

    /// With `scripts/pg-server.sh`'s options (`PG_PASSWORD`, `PG_TLS_DIR`).
    pub fn start_with(env: &[(&str, &str)]) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let out = Command::new("bash")
            .envs(env.iter().copied())
            .arg(super::repo().join("scripts/pg-server.sh"))
            .arg("start")
            .arg(dir.path().join("pg"))
            .output()
            .expect("run pg-server.sh");
        assert!(
            out.status.success(),
            "cannot start PostgreSQL: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let admin = String::from_utf8_lossy(&out.stdout).trim().to_string();
        Self { dir, admin }
    }

    /// The server's port.
    pub fn port(&self) -> u16 {
        std::fs::read_to_string(self.data().join("port"))
            .expect("the port file")
            .trim()
            .parse()
            .expect("a port")
    }

    fn ctl(&self, what: &str) {
        let out = Command::new("bash")
            .arg(super::repo().join("scripts/pg-server.sh"))
            .arg(what)
            .arg(self.data())
            .output()
            .expect("run pg-server.sh");
        assert!(
            out.status.success(),
            "pg-server.sh {what}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("pg")
    }

    /// Stops the server (fast: clients are disconnected at once).
    pub fn stop(&self) {
        self.ctl("stop");
    }

    /// Starts it again on the same port.
    pub fn restart(&self) {
        self.ctl("restart");
    }

    /// A new database on it.
    pub fn database(&self) -> PgDatabase {
        PgDatabase::on(&self.admin)
    }
}

impl Drop for PgServer {
    fn drop(&mut self) {
        let _ = Command::new("bash")
            .arg(super::repo().join("scripts/pg-server.sh"))
            .arg("stop")
            .arg(self.data())
            .output();
    }
}

/// A database of the test's own, dropped when dropped.
pub struct PgDatabase {
    admin: String,
    name: String,
    pub url: String,
}

impl PgDatabase {
    /// On the shared test server (`TFDRIFT_TEST_PG`).
    pub fn shared() -> Self {
        let admin = std::env::var("TFDRIFT_TEST_PG").unwrap_or_else(|_| {
            panic!(
                "this test needs PostgreSQL: run it through scripts/test.sh, which starts a \
                 private server and sets TFDRIFT_TEST_PG"
            )
        });
        Self::on(&admin)
    }

    pub fn on(admin: &str) -> Self {
        static N: AtomicUsize = AtomicUsize::new(0);
        let name = format!(
            "tfdrift_it{}_{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        );
        admin_sql(admin, &format!("CREATE DATABASE {name}"));
        let (base, _) = admin.rsplit_once('/').expect("a URL with a database");
        Self {
            admin: admin.to_string(),
            url: format!("{base}/{name}"),
            name,
        }
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let (admin, sql) = (
            self.admin.clone(),
            format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
        );
        // The server may be gone already (a test that stopped it).
        let _ = std::thread::spawn(move || {
            if let Ok(mut c) = postgres::Client::connect(&admin, postgres::NoTls) {
                let _ = c.batch_execute(&sql);
            }
        })
        .join();
    }
}

/// One statement as the admin, on a thread of its own (the synchronous
/// client must not run inside a test's tokio runtime).
pub fn admin_sql(admin: &str, sql: &str) {
    let (admin, sql) = (admin.to_string(), sql.to_string());
    std::thread::spawn(move || {
        let mut c = postgres::Client::connect(&admin, postgres::NoTls)
            .unwrap_or_else(|e| panic!("PostgreSQL at {admin}: {e}"));
        c.batch_execute(&sql)
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    })
    .join()
    .expect("the admin statement's thread");
}
