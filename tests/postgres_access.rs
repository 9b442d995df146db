//! Reaching a PostgreSQL history the way a real deployment does: over
//! TLS (rustls) to a server that accepts nothing else, with a password
//! from `PGPASSWORD` or `~/.pgpass` and never from the URL, and the
//! password never shown.

mod common;

use std::path::Path;
use std::process::Command;

use common::pg::PgServer;
use common::{Emulator, tfdrift_command};

const SECRET: &str = "s3cret-Pa55word";

/// A CA and a server certificate for 127.0.0.1 signed by it, made with
/// openssl in `dir`.
fn certificates(dir: &Path, ca: &str) {
    let run = |args: &[&str]| {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .expect("run openssl");
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let (ca_key, ca_pem) = (format!("{ca}.key"), format!("{ca}.pem"));
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    let mut args = vec!["req", "-x509"];
    args.extend(ec);
    args.extend([
        "-keyout",
        &ca_key,
        "-out",
        &ca_pem,
        "-days",
        "2",
        "-subj",
        "/CN=tfdrift test CA",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
    ]);
    run(&args);
    let mut args = vec!["req"];
    args.extend(ec);
    args.extend([
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
        "-subj",
        "/CN=127.0.0.1",
    ]);
    run(&args);
    std::fs::write(
        dir.join("server.ext"),
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    run(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        &ca_pem,
        "-CAkey",
        &ca_key,
        "-CAcreateserial",
        "-out",
        "server.pem",
        "-days",
        "2",
        "-extfile",
        "server.ext",
    ]);
}

#[test]
fn tls_and_a_password_from_the_environment_or_pgpass() {
    let emu = Emulator::start();
    let certs = tempfile::tempdir().unwrap();
    certificates(certs.path(), "ca");
    // Another CA, which did not sign the server's certificate.
    let other = tempfile::tempdir().unwrap();
    certificates(other.path(), "other");
    let server = PgServer::start_with(&[
        ("PG_PASSWORD", SECRET),
        ("PG_TLS_DIR", certs.path().to_str().unwrap()),
    ]);
    let home = tempfile::tempdir().unwrap();
    let base = format!("postgres://postgres@127.0.0.1:{}/postgres", server.port());
    let ca = certs.path().join("ca.pem");
    let tls = format!("{base}?sslmode=require&sslrootcert={}", ca.display());
    let run = |db: &str, env: &[(&str, &str)]| {
        let out = tfdrift_command(&emu, home.path(), &["--db", db, "history", "scans"])
            .envs(env.iter().copied())
            .output()
            .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!text.contains(SECRET), "the password was shown:\n{text}");
        (out.status.code(), text)
    };

    // TLS verified against the CA, the password from PGPASSWORD: the
    // history is created and read.
    let (code, text) = run(&tls, &[("PGPASSWORD", SECRET)]);
    assert_eq!(code, Some(0), "{text}");
    // From ~/.pgpass instead (HOME is the test's).
    std::fs::write(
        home.path().join(".pgpass"),
        format!("127.0.0.1:{}:postgres:postgres:{SECRET}\n", server.port()),
    )
    .unwrap();
    let (code, text) = run(&tls, &[]);
    assert_eq!(code, Some(0), "{text}");
    std::fs::remove_file(home.path().join(".pgpass")).unwrap();

    // No password: the server's refusal, said plainly.
    let (code, text) = run(&tls, &[]);
    assert_eq!(code, Some(2), "{text}");
    assert!(
        text.contains("asks for a password") && text.contains("~/.pgpass"),
        "{text}"
    );
    // A wrong one: refused, and not echoed either.
    let (code, text) = run(&tls, &[("PGPASSWORD", "wrong-one")]);
    assert_eq!(code, Some(2), "{text}");
    assert!(text.contains("password authentication failed"), "{text}");
    assert!(!text.contains("wrong-one"), "{text}");

    // The server takes TLS only: without it, no connection at all.
    let plain = format!("{base}?sslmode=disable");
    let (code, text) = run(&plain, &[("PGPASSWORD", SECRET)]);
    assert_eq!(code, Some(2), "{text}");
    assert!(
        text.contains("no encryption") || text.contains("pg_hba.conf"),
        "{text}"
    );
    // A server whose certificate another CA signed is not trusted.
    let wrong_ca = format!(
        "{base}?sslmode=require&sslrootcert={}",
        other.path().join("other.pem").display()
    );
    let (code, text) = run(&wrong_ca, &[("PGPASSWORD", SECRET)]);
    assert_eq!(code, Some(2), "{text}");
    assert!(text.to_lowercase().contains("certificate"), "{text}");

    // A password in the URL is refused before any connection, unshown.
    let with_password = tls.replace("postgres@", &format!("postgres:{SECRET}@"));
    let (code, text) = run(&with_password, &[]);
    assert_eq!(code, Some(2), "{text}");
    assert!(text.contains("PGPASSWORD or ~/.pgpass"), "{text}");
    // And in the config file, with where it is.
    std::fs::write(
        home.path().join("tfdrift.hcl"),
        format!("database = \"{with_password}\"\n"),
    )
    .unwrap();
    let out = tfdrift_command(&emu, home.path(), &["history", "scans"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(text.contains("tfdrift.hcl:1:"), "{text}");
    assert!(text.contains("holds a password"), "{text}");
    assert!(!text.contains(SECRET), "{text}");
}
