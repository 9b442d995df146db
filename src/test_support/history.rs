//! A history database of either backend, for the tests that must hold for
//! both: a SQLite file in a temp directory, or a database of its own on
//! the test PostgreSQL server (`TFDRIFT_TEST_PG`, the admin URL
//! `scripts/test.sh` exports after starting a private server), dropped at
//! the end.
//!
//! Without `TFDRIFT_TEST_PG` a PostgreSQL test fails, saying how to run
//! it, unless `TFDRIFT_SKIP_PG=1` says to skip such tests (and each says
//! it was skipped): never a silent pass.

use std::sync::atomic::{AtomicUsize, Ordering};

use crate::store::Location;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A fresh, empty history database; removed when dropped.
pub struct TestDb {
    pub location: Location,
    /// The SQLite file's directory.
    pub dir: Option<tempfile::TempDir>,
    pg: Option<(String, String)>,
}

impl TestDb {
    /// `None`: a PostgreSQL test with `TFDRIFT_SKIP_PG=1`.
    pub fn new(backend: Backend) -> Option<Self> {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("a temp dir");
                Some(Self {
                    location: Location::File(dir.path().join("sub/tfdrift.db")),
                    dir: Some(dir),
                    pg: None,
                })
            }
            Backend::Postgres => {
                let Some(admin) = admin_url() else {
                    eprintln!("skipped on PostgreSQL: TFDRIFT_SKIP_PG=1");
                    return None;
                };
                static N: AtomicUsize = AtomicUsize::new(0);
                let name = format!(
                    "tfdrift_t{}_{}",
                    std::process::id(),
                    N.fetch_add(1, Ordering::Relaxed)
                );
                admin_sql(&admin, &format!("CREATE DATABASE {name}"));
                let (base, _) = admin.rsplit_once('/').expect("a URL with a database");
                Some(Self {
                    location: Location::Postgres(format!("{base}/{name}")),
                    dir: None,
                    pg: Some((admin, name)),
                })
            }
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some((admin, name)) = &self.pg {
            // Pooled connections to it are still open: FORCE ends them.
            admin_sql(
                admin,
                &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
            );
        }
    }
}

fn admin_url() -> Option<String> {
    match std::env::var("TFDRIFT_TEST_PG") {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var("TFDRIFT_SKIP_PG").as_deref() == Ok("1") => None,
        _ => panic!(
            "this test runs against PostgreSQL: run it through scripts/test.sh (which starts a \
             private server and sets TFDRIFT_TEST_PG), or set TFDRIFT_SKIP_PG=1 to skip it"
        ),
    }
}

/// One statement as the admin, on a thread of its own (the synchronous
/// client must not run inside a test's tokio runtime).
fn admin_sql(admin: &str, sql: &str) {
    let (admin, sql) = (admin.to_string(), sql.to_string());
    std::thread::spawn(move || {
        let mut c = postgres::Client::connect(&admin, postgres::NoTls)
            .unwrap_or_else(|e| panic!("the test PostgreSQL server at {admin}: {e}"));
        c.batch_execute(&sql)
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    })
    .join()
    .expect("the admin statement's thread");
}
