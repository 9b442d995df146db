//! `tfdrift.hcl`: named workspaces (what to scan and how) and the
//! history database. Documented field by field in docs/config.md.
//!
//! ```hcl
//! database       = "/var/lib/tfdrift/tfdrift.db"
//! retention_days = 180
//!
//! workspace "production" {
//!   dir     = "infra/prod"
//!   states  = ["s3://tf-state/prod/terraform.tfstate"]
//!   regions = ["eu-west-1"]
//!   profile = "prod-readonly"
//!   slack {
//!     webhook_env = "TFDRIFT_SLACK_PRODUCTION"
//!   }
//! }
//!
//! workspace "platform" {
//!   states = ["s3://tf-state/accounts/"]
//!   organization {
//!     role_name = "tfdrift-read"
//!     include   = ["ou-ab12-prod1234"]
//!   }
//!   account "111111111111" {
//!     role_name       = "tfdrift-read"
//!     external_id_env = "TFDRIFT_EXTERNAL_ID"
//!   }
//! }
//! ```
//!
//! A workspace with `account` blocks or an `organization` scans those
//! accounts through STS `AssumeRole` (docs/accounts.md); without, the
//! credentials' own account.
//!
//! Secrets never live in this file: a Slack webhook is named by the
//! environment variable that holds it. Every error gives file, line and
//! column; relative paths are relative to the file's directory.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use hcl::{Block, Body, Expression};

use crate::hcl_diag::{error_parts as hcl_error_parts, locate, locate_after};

mod alert;
use crate::schedule::{DEFAULT_DIGEST_SCHEDULE, Schedule, ScheduleError};
pub use alert::{AlertKind, AlertRoute, PAGERDUTY_ENDPOINT, ROUTE_EVENTS};

/// The default file name, looked for in the current directory.
pub const FILE_NAME: &str = "tfdrift.hcl";

#[derive(Debug, Clone, Default)]
pub struct Config {
    /// Where the file was read from; `None` for the implied config.
    pub file: Option<PathBuf>,
    pub database: Option<PathBuf>,
    pub retention_days: Option<u32>,
    pub workspaces: Vec<Workspace>,
    /// Alert routes declared at the top level: every workspace's too.
    pub alerts: Vec<AlertRoute>,
    /// The signed audit log, when kept (`audit { ... }`).
    pub audit: Option<Audit>,
}

/// `audit { ... }`: where the signed audit log is appended, and the key
/// that signs it (docs/audit.md).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Audit {
    /// The log file (JSON lines).
    pub log: PathBuf,
    /// A PKCS#8 PEM Ed25519 private key file (`tfdrift keys generate`).
    pub signing_key_file: Option<PathBuf>,
    /// Or the environment variable holding that PEM.
    pub signing_key_env: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct Workspace {
    pub name: String,
    /// Where the `*.tf` files are, for backend discovery when `states` is
    /// empty.
    pub dir: PathBuf,
    /// State paths, globs or `s3://` URLs (as `scan --state`).
    pub states: Vec<String>,
    pub regions: Vec<String>,
    /// An AWS profile (which may itself assume a role via `role_arn`).
    pub profile: Option<String>,
    pub rules: Option<PathBuf>,
    /// Cron expression (seconds first) for the daemon's scans.
    pub schedule: Option<String>,
    pub slack: Option<Slack>,
    pub digest: Option<Digest>,
    /// Accounts named one by one (`account "ID" { ... }`).
    pub accounts: Vec<Account>,
    /// Accounts discovered through AWS Organizations.
    pub organization: Option<Organization>,
    /// Most AWS calls in flight at once in one scan, all accounts
    /// together.
    pub max_concurrent_calls: Option<u32>,
    /// Most AWS calls in flight at once in any one account.
    pub max_concurrent_calls_per_account: Option<u32>,
    /// Alert routes: the workspace's own, then the top level's.
    pub alerts: Vec<AlertRoute>,
}

impl Workspace {
    /// Whether it scans named or discovered accounts rather than the
    /// credentials' own.
    pub fn is_multi_account(&self) -> bool {
        !self.accounts.is_empty() || self.organization.is_some()
    }
}

/// How to reach an account: the role to assume there.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Role {
    /// The role's name (`arn:aws:iam::ID:role/NAME`); `None` uses the base
    /// credentials, which must then be this account's.
    pub role_name: Option<String>,
    /// The environment variable holding the external id the role's trust
    /// policy requires.
    pub external_id_env: Option<String>,
    /// The session name CloudTrail shows for tfdrift's calls.
    pub session_name: Option<String>,
}

/// `account "ID" { ... }`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Account {
    pub id: String,
    pub role: Role,
    /// Globs over the workspace's state sources (paths or `s3://` URLs):
    /// their resources that name no account belong to this one.
    pub states: Vec<String>,
    /// Regions to scan in this account beyond the workspace's.
    pub regions: Vec<String>,
}

/// `organization { ... }`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Organization {
    pub role: Role,
    /// Account ids, OU ids (`ou-...`) or root ids (`r-...`) to scan; empty
    /// is every active account.
    pub include: Vec<String>,
    /// Account or OU ids never to scan.
    pub exclude: Vec<String>,
}

#[derive(Debug, Clone, Default)]
pub struct Slack {
    /// The environment variable holding the incoming-webhook URL.
    pub webhook_env: String,
    pub allow_any_webhook_host: bool,
}

#[derive(Debug, Clone, Default)]
pub struct Digest {
    pub enabled: bool,
    pub schedule: Option<String>,
    pub timezone: Option<String>,
    pub days: Option<u32>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{file}:{line}:{column}: {message}")]
    Invalid {
        file: String,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("cannot read {file}: {source}")]
    Read {
        file: String,
        #[source]
        source: std::io::Error,
    },
    #[error("no workspace {name:?} in {file} (it has: {known})")]
    UnknownWorkspace {
        name: String,
        file: String,
        known: String,
    },
}

impl Config {
    /// Reads `path`, or `./tfdrift.hcl` when it exists; otherwise the
    /// implied config: one workspace named after the directory.
    pub fn load(path: Option<&Path>) -> Result<Self, ConfigError> {
        let path = match path {
            Some(p) => p.to_path_buf(),
            None if Path::new(FILE_NAME).exists() => PathBuf::from(FILE_NAME),
            None => return Ok(Self::default()),
        };
        let text = std::fs::read_to_string(&path).map_err(|source| ConfigError::Read {
            file: path.display().to_string(),
            source,
        })?;
        let mut config = parse(&text, &path.display().to_string())?;
        let base = path.parent().unwrap_or(Path::new("."));
        config.rebase(base);
        config.file = Some(path);
        Ok(config)
    }

    /// The workspace to scan: the named one, or — with no name — the only
    /// one, or an implied workspace for `dir` named after it.
    pub fn workspace(&self, name: Option<&str>, dir: &Path) -> Result<Workspace, ConfigError> {
        let file = || {
            self.file
                .as_ref()
                .map_or_else(|| FILE_NAME.to_string(), |f| f.display().to_string())
        };
        match name {
            Some(n) => self
                .workspaces
                .iter()
                .find(|w| w.name == n)
                .cloned()
                .ok_or_else(|| ConfigError::UnknownWorkspace {
                    name: n.to_string(),
                    file: file(),
                    known: if self.workspaces.is_empty() {
                        "none".into()
                    } else {
                        self.workspaces
                            .iter()
                            .map(|w| w.name.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    },
                }),
            None if self.workspaces.len() == 1 => Ok(self.workspaces[0].clone()),
            None => Ok(Workspace {
                name: implied_name(dir),
                dir: dir.to_path_buf(),
                ..Workspace::default()
            }),
        }
    }

    /// The route named `name`, wherever it is declared.
    pub fn route(&self, name: &str) -> Option<&AlertRoute> {
        self.alerts
            .iter()
            .chain(self.workspaces.iter().flat_map(|w| w.alerts.iter()))
            .find(|r| r.name == name)
    }

    fn rebase(&mut self, base: &Path) {
        let join = |p: &Path| {
            if p.is_absolute() {
                p.to_path_buf()
            } else {
                base.join(p)
            }
        };
        // A PostgreSQL URL is not a path.
        self.database = self.database.as_deref().map(|p| match p.to_str() {
            Some(s) if s.starts_with("postgres://") || s.starts_with("postgresql://") => {
                p.to_path_buf()
            }
            _ => join(p),
        });
        if let Some(a) = &mut self.audit {
            a.log = join(&a.log);
            a.signing_key_file = a.signing_key_file.as_deref().map(join);
        }
        for w in &mut self.workspaces {
            w.dir = join(&w.dir);
            w.rules = w.rules.as_deref().map(join);
            let rebase = |s: &mut String| {
                if !s.starts_with("s3://") && !Path::new(s.as_str()).is_absolute() {
                    *s = base.join(&*s).display().to_string();
                }
            };
            w.states.iter_mut().for_each(rebase);
            // An account's globs match the states' names, rebased alike.
            w.accounts
                .iter_mut()
                .flat_map(|a| a.states.iter_mut())
                .for_each(rebase);
        }
    }
}

/// A directory's workspace name: its own name (`infra/prod` → `prod`).
pub fn implied_name(dir: &Path) -> String {
    std::fs::canonicalize(dir)
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "default".into())
}

const TOP: &[&str] = &["database", "retention_days"];
const WORKSPACE: &[&str] = &[
    "dir",
    "states",
    "regions",
    "profile",
    "rules",
    "schedule",
    "max_concurrent_calls",
    "max_concurrent_calls_per_account",
];
const ACCOUNT: &[&str] = &[
    "role_name",
    "external_id_env",
    "session_name",
    "states",
    "regions",
];
const ORGANIZATION: &[&str] = &[
    "role_name",
    "external_id_env",
    "session_name",
    "include",
    "exclude",
];
const SLACK: &[&str] = &["webhook_env", "allow_any_webhook_host"];
const DIGEST: &[&str] = &["enabled", "schedule", "timezone", "days"];
const AUDIT: &[&str] = &["log", "signing_key_file", "signing_key_env"];

/// Parses a config text; `file` names it in errors.
pub fn parse(text: &str, file: &str) -> Result<Config, ConfigError> {
    let body: Body = hcl::from_str(text).map_err(|e| {
        let (line, column, message) = hcl_error_parts(&e.to_string());
        ConfigError::Invalid {
            file: file.into(),
            line,
            column,
            message,
        }
    })?;
    let p = Parser { text, file };
    let mut config = Config::default();
    let top = p.attributes(&body, TOP, "", "the top level")?;
    config.database = p.string(&top, "database", "")?.map(PathBuf::from);
    if let Some(url) = config.database.as_deref().and_then(|d| d.to_str()) {
        let userinfo = url
            .split_once("://")
            .filter(|(scheme, _)| matches!(*scheme, "postgres" | "postgresql"))
            .and_then(|(_, rest)| rest.split(['/', '?']).next())
            .and_then(|authority| authority.rsplit_once('@'))
            .map(|(userinfo, _)| userinfo);
        if userinfo.is_some_and(|u| u.contains(':')) || url.contains("password=") {
            // The message never repeats the value.
            return Err(p.key_err(
                "",
                "database",
                "`database` holds a password: keep it out of the config, in PGPASSWORD or \
                 ~/.pgpass (docs/deployment.md)"
                    .into(),
            ));
        }
    }
    config.retention_days = p.number(&top, "retention_days", "")?;
    for block in body.blocks() {
        if block.identifier() == "alert" {
            config.alerts.push(p.alert(block, "")?);
            continue;
        }
        if block.identifier() == "audit" {
            if config.audit.is_some() {
                return Err(p.at_last("audit", "the file has two `audit` blocks".into()));
            }
            let a = p.attributes(block.body(), AUDIT, "audit", "audit")?;
            let Some(log) = p.string(&a, "log", "audit")? else {
                return Err(p.at("audit", "audit: `log` (the log file) is required".into()));
            };
            let file = p.string(&a, "signing_key_file", "audit")?;
            let env = p.string(&a, "signing_key_env", "audit")?;
            if file.is_some() == env.is_some() {
                return Err(p.at(
                    "audit",
                    "audit: name the signing key once: `signing_key_file` (a PEM file) or \
                     `signing_key_env` (a variable holding the PEM)"
                        .into(),
                ));
            }
            if let Some(v) = &env {
                if !v.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                    return Err(p.key_err(
                        "audit",
                        "signing_key_env",
                        "`signing_key_env` names an environment variable (letters, digits, _); \
                         the key itself never goes in this file"
                            .into(),
                    ));
                }
            }
            config.audit = Some(Audit {
                log: PathBuf::from(log),
                signing_key_file: file.map(PathBuf::from),
                signing_key_env: env,
            });
            continue;
        }
        if block.identifier() != "workspace" {
            return Err(p.at(
                block.identifier(),
                format!(
                    "unknown block `{}`; the file holds `workspace \"NAME\" {{ ... }}`, \
                     `alert \"KIND\" \"NAME\" {{ ... }}` and `audit {{ ... }}` blocks",
                    block.identifier()
                ),
            ));
        }
        let w = p.workspace(block)?;
        if config.workspaces.iter().any(|o| o.name == w.name) {
            return Err(p.at_last(
                &format!("\"{}\"", w.name),
                format!("workspace {:?} is declared twice", w.name),
            ));
        }
        config.workspaces.push(w);
    }
    // Route names are unique in the file: deliveries are recorded, and
    // `alert test` finds a route, by name alone.
    let mut names = std::collections::BTreeSet::new();
    for r in config
        .alerts
        .iter()
        .chain(config.workspaces.iter().flat_map(|w| w.alerts.iter()))
    {
        if !names.insert(r.name.as_str()) {
            return Err(p.at_last(
                &format!("\"{}\"", r.name),
                format!("alert route {:?} is declared twice", r.name),
            ));
        }
    }
    for w in &mut config.workspaces {
        w.alerts.extend(config.alerts.iter().cloned());
    }
    Ok(config)
}

struct Parser<'a> {
    text: &'a str,
    file: &'a str,
}

type Attrs<'b> = BTreeMap<&'b str, &'b Expression>;

impl Parser<'_> {
    fn err(&self, (line, column): (usize, usize), message: String) -> ConfigError {
        ConfigError::Invalid {
            file: self.file.into(),
            line,
            column,
            message,
        }
    }

    fn at(&self, needle: &str, message: String) -> ConfigError {
        self.err(locate(self.text, needle), message)
    }

    fn at_last(&self, needle: &str, message: String) -> ConfigError {
        let offset = self.text.rfind(needle).unwrap_or(0);
        let (line, column) = locate(&self.text[offset..], needle);
        let before = self.text[..offset].matches('\n').count();
        let column = if line == 1 {
            self.text[..offset]
                .rsplit('\n')
                .next()
                .map_or(0, |l| l.chars().count())
                + column
        } else {
            column
        };
        self.err((before + line, column), message)
    }

    /// `key`'s position: after `anchor` (a block's label) when given.
    /// `anchor` may be a path of anchors joined by [`WITHIN`] (a
    /// workspace, then a block inside it), each looked for after the one
    /// before: the same `account "ID"` in two workspaces is told apart.
    fn key_err(&self, anchor: &str, key: &str, message: String) -> ConfigError {
        let mut parts: Vec<&str> = anchor.split(WITHIN).collect();
        let last = parts.pop().unwrap_or_default();
        let mut start = 0;
        for part in parts {
            start += self.text[start..].find(part).unwrap_or(0);
        }
        let (line, column) = locate_after(&self.text[start..], last, key);
        let before = &self.text[..start];
        let lines_before = before.matches('\n').count();
        let column = if line == 1 {
            before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + column
        } else {
            column
        };
        self.err((lines_before + line, column), message)
    }

    /// The first `block` after `anchor`.
    fn block_err(&self, anchor: &str, block: &str, message: String) -> ConfigError {
        let start = self.text.find(anchor).unwrap_or(0);
        let offset = self.text[start..].find(block).map_or(start, |o| start + o);
        let before = &self.text[..offset];
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        self.err((line, column), message)
    }

    fn attributes<'b>(
        &self,
        body: &'b Body,
        allowed: &[&str],
        anchor: &str,
        place: &str,
    ) -> Result<Attrs<'b>, ConfigError> {
        let mut out = BTreeMap::new();
        for a in body.attributes() {
            if !allowed.contains(&a.key()) {
                let secret = ["webhook", "url", "key", "secret", "token"]
                    .iter()
                    .any(|s| a.key().contains(s));
                let hint = if secret {
                    "; webhook URLs never go in this file (nor keys): put the value in an \
                     environment variable and name it (`webhook_env`, `url_env`, \
                     `routing_key_env`, `secret_env`, `signing_key_env`)"
                        .to_string()
                } else {
                    format!(" (fields: {})", allowed.join(", "))
                };
                return Err(self.key_err(
                    anchor,
                    a.key(),
                    format!("unknown field `{}` in {place}{hint}", a.key()),
                ));
            }
            out.insert(a.key(), a.expr());
        }
        Ok(out)
    }

    fn string(
        &self,
        attrs: &Attrs,
        key: &str,
        anchor: &str,
    ) -> Result<Option<String>, ConfigError> {
        match attrs.get(key) {
            None => Ok(None),
            Some(Expression::String(s)) if !s.is_empty() => Ok(Some(s.clone())),
            Some(other) => Err(self.key_err(
                anchor,
                key,
                format!("`{key}` must be a non-empty string, found `{other}`"),
            )),
        }
    }

    fn strings(&self, attrs: &Attrs, key: &str, anchor: &str) -> Result<Vec<String>, ConfigError> {
        match attrs.get(key) {
            None => Ok(Vec::new()),
            Some(Expression::Array(items)) => items
                .iter()
                .map(|i| match i {
                    Expression::String(s) => Ok(s.clone()),
                    other => Err(self.key_err(
                        anchor,
                        key,
                        format!("`{key}` must be a list of strings, found `{other}`"),
                    )),
                })
                .collect(),
            Some(other) => Err(self.key_err(
                anchor,
                key,
                format!("`{key}` must be a list of strings, found `{other}`"),
            )),
        }
    }

    fn number(&self, attrs: &Attrs, key: &str, anchor: &str) -> Result<Option<u32>, ConfigError> {
        match attrs.get(key) {
            None => Ok(None),
            Some(Expression::Number(n)) => match n.as_u64().and_then(|v| u32::try_from(v).ok()) {
                Some(v) if v > 0 => Ok(Some(v)),
                _ => Err(self.key_err(
                    anchor,
                    key,
                    format!("`{key}` must be a whole number above 0, found `{n}`"),
                )),
            },
            Some(other) => Err(self.key_err(
                anchor,
                key,
                format!("`{key}` must be a number, found `{other}`"),
            )),
        }
    }

    fn boolean(&self, attrs: &Attrs, key: &str, anchor: &str) -> Result<Option<bool>, ConfigError> {
        match attrs.get(key) {
            None => Ok(None),
            Some(Expression::Bool(b)) => Ok(Some(*b)),
            Some(other) => Err(self.key_err(
                anchor,
                key,
                format!("`{key}` must be true or false, found `{other}`"),
            )),
        }
    }

    fn workspace(&self, block: &Block) -> Result<Workspace, ConfigError> {
        let Some(name) = block.labels().first().map(|l| l.as_str().to_string()) else {
            return Err(self.at(
                "workspace",
                "a workspace needs a name: `workspace \"production\" { ... }`".into(),
            ));
        };
        if name.is_empty() || name.contains(char::is_whitespace) {
            return Err(self.at(
                &format!("\"{name}\""),
                format!("workspace name {name:?} must be non-empty and without spaces"),
            ));
        }
        let anchor = format!("workspace \"{name}\"");
        let attrs = self.attributes(block.body(), WORKSPACE, &anchor, &anchor)?;
        let mut w = Workspace {
            dir: PathBuf::from(self.string(&attrs, "dir", &anchor)?.unwrap_or(".".into())),
            states: self.strings(&attrs, "states", &anchor)?,
            regions: self.strings(&attrs, "regions", &anchor)?,
            profile: self.string(&attrs, "profile", &anchor)?,
            rules: self.string(&attrs, "rules", &anchor)?.map(PathBuf::from),
            schedule: self.string(&attrs, "schedule", &anchor)?,
            max_concurrent_calls: self.number(&attrs, "max_concurrent_calls", &anchor)?,
            max_concurrent_calls_per_account: self.number(
                &attrs,
                "max_concurrent_calls_per_account",
                &anchor,
            )?,
            name,
            ..Workspace::default()
        };
        if let Some(expr) = &w.schedule {
            Schedule::parse(expr, "UTC")
                .map_err(|e| self.key_err(&anchor, "schedule", e.to_string()))?;
        }
        for inner in block.body().blocks() {
            let place = format!("{anchor} {}", inner.identifier());
            match inner.identifier() {
                "slack" => {
                    let a = self.attributes(inner.body(), SLACK, &anchor, &place)?;
                    let Some(env) = self.string(&a, "webhook_env", &anchor)? else {
                        return Err(self.at(
                            &anchor,
                            format!(
                                "{place}: `webhook_env` (the variable holding the URL) is required"
                            ),
                        ));
                    };
                    if !env.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                        return Err(self.key_err(
                            &anchor,
                            "webhook_env",
                            "`webhook_env` names an environment variable (letters, digits, _); \
                             the URL itself never goes in this file"
                                .into(),
                        ));
                    }
                    w.slack = Some(Slack {
                        webhook_env: env,
                        allow_any_webhook_host: self
                            .boolean(&a, "allow_any_webhook_host", &anchor)?
                            .unwrap_or(false),
                    });
                }
                "digest" => {
                    let a = self.attributes(inner.body(), DIGEST, &anchor, &place)?;
                    let d = Digest {
                        enabled: self.boolean(&a, "enabled", &anchor)?.unwrap_or(false),
                        schedule: self.string(&a, "schedule", &anchor)?,
                        timezone: self.string(&a, "timezone", &anchor)?,
                        days: self.number(&a, "days", &anchor)?,
                    };
                    let expr = d.schedule.as_deref().unwrap_or(DEFAULT_DIGEST_SCHEDULE);
                    if let Err(e) = Schedule::parse(expr, d.timezone.as_deref().unwrap_or("UTC")) {
                        let key = match e {
                            ScheduleError::UnknownTimeZone { .. } => "timezone",
                            ScheduleError::InvalidCron { .. } => "schedule",
                        };
                        return Err(self.key_err(&anchor, key, e.to_string()));
                    }
                    w.digest = Some(d);
                }
                "account" => {
                    let account = self.account(inner, &anchor)?;
                    if w.accounts.iter().any(|a| a.id == account.id) {
                        return Err(self.at_last(
                            &format!("account \"{}\"", account.id),
                            format!("account {} is declared twice in {anchor}", account.id),
                        ));
                    }
                    w.accounts.push(account);
                }
                "organization" => {
                    let org = format!("{anchor}{WITHIN}organization");
                    if w.organization.is_some() {
                        return Err(self.at_last(
                            "organization",
                            format!("{anchor} has two `organization` blocks"),
                        ));
                    }
                    let a = self.attributes(inner.body(), ORGANIZATION, &org, &place)?;
                    let role = self.role(&a, &org)?;
                    if role.role_name.is_none() {
                        return Err(self.block_err(
                            &anchor,
                            "organization",
                            format!(
                                "{place}: `role_name` (the role tfdrift assumes in each account) is required"
                            ),
                        ));
                    }
                    let include = self.strings(&a, "include", &org)?;
                    let exclude = self.strings(&a, "exclude", &org)?;
                    for (key, ids) in [("include", &include), ("exclude", &exclude)] {
                        if let Some(bad) = ids.iter().find(|i| !is_org_target(i)) {
                            return Err(self.key_err(
                                &org,
                                key,
                                format!(
                                    "`{key}` holds account ids (12 digits), OU ids (ou-...) or root ids (r-...); {bad:?} is none"
                                ),
                            ));
                        }
                    }
                    w.organization = Some(Organization {
                        role,
                        include,
                        exclude,
                    });
                }
                "alert" => {
                    let route = self.alert(inner, &anchor)?;
                    w.alerts.push(route);
                }
                other => {
                    return Err(self.at(
                        other,
                        format!(
                            "unknown block `{other}` in {anchor} (blocks: slack, digest, account, organization, alert)"
                        ),
                    ));
                }
            }
        }
        Ok(w)
    }

    fn account(&self, block: &Block, anchor: &str) -> Result<Account, ConfigError> {
        let id = block
            .labels()
            .first()
            .map(|l| l.as_str().to_string())
            .unwrap_or_default();
        if !is_account_id(&id) {
            return Err(self.at(
                &format!("account \"{id}\""),
                format!(
                    "{anchor}: an account block is `account \"123456789012\" {{ ... }}`, with the 12-digit account id; found {id:?}"
                ),
            ));
        }
        let place = format!("{anchor} account \"{id}\"");
        // Keys are located after the block's own label.
        let at = format!("{anchor}{WITHIN}account \"{id}\"");
        let a = self.attributes(block.body(), ACCOUNT, &at, &place)?;
        let states = self.strings(&a, "states", &at)?;
        if let Some((g, e)) = states
            .iter()
            .find_map(|g| glob::Pattern::new(g).err().map(|e| (g, e)))
        {
            return Err(self.key_err(&at, "states", format!("`states` glob {g:?}: {e}")));
        }
        Ok(Account {
            role: self.role(&a, &at)?,
            states,
            regions: self.strings(&a, "regions", &at)?,
            id,
        })
    }

    fn role(&self, a: &Attrs, anchor: &str) -> Result<Role, ConfigError> {
        let role = Role {
            role_name: self.string(a, "role_name", anchor)?,
            external_id_env: self.string(a, "external_id_env", anchor)?,
            session_name: self.string(a, "session_name", anchor)?,
        };
        if let Some(name) = &role.role_name {
            // A name, not an ARN: the account's id is the block's.
            if name.starts_with("arn:") || name.contains(':') {
                return Err(self.key_err(
                    anchor,
                    "role_name",
                    format!(
                        "`role_name` is the role's name (with its path, if any), not an ARN: {name:?}"
                    ),
                ));
            }
        }
        if let Some(env) = &role.external_id_env {
            if !env.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return Err(self.key_err(
                    anchor,
                    "external_id_env",
                    "`external_id_env` names an environment variable (letters, digits, _); \
                     the external id itself never goes in this file"
                        .into(),
                ));
            }
        }
        if let Some(session) = &role.session_name {
            // STS: 2-64 characters of [\w+=,.@-].
            let ok = (2..=64).contains(&session.len())
                && session
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c));
            if !ok {
                return Err(self.key_err(
                    anchor,
                    "session_name",
                    format!(
                        "`session_name` must be 2-64 letters, digits or _+=,.@- (STS's rule); found {session:?}"
                    ),
                ));
            }
        }
        Ok(role)
    }
}

/// Joins the anchors of a nested block for [`Parser::key_err`].
const WITHIN: char = '\u{1f}';

/// A 12-digit AWS account id.
pub fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.chars().all(|c| c.is_ascii_digit())
}

/// An account, OU or root id, as `organization`'s include and exclude
/// take.
fn is_org_target(s: &str) -> bool {
    is_account_id(s)
        || (s.starts_with("ou-") && s.len() > 3)
        || (s.starts_with("r-") && s.len() > 2)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
database       = "data/tfdrift.db"
retention_days = 180

workspace "production" {
  dir     = "infra/prod"
  states  = ["s3://tf-state/prod/terraform.tfstate", "local.tfstate"]
  regions = ["eu-west-1"]
  profile = "prod-readonly"
  slack {
    webhook_env = "TFDRIFT_SLACK_PRODUCTION"
  }
  digest {
    enabled  = true
    timezone = "Europe/Berlin"
  }
}

workspace "staging" {}
"#;

    #[test]
    fn parses_every_field() {
        let c = parse(GOOD, "tfdrift.hcl").unwrap();
        assert_eq!(c.retention_days, Some(180));
        assert_eq!(c.workspaces.len(), 2);
        let w = &c.workspaces[0];
        assert_eq!(w.name, "production");
        assert_eq!(w.regions, ["eu-west-1"]);
        assert_eq!(w.profile.as_deref(), Some("prod-readonly"));
        assert_eq!(
            w.slack.as_ref().unwrap().webhook_env,
            "TFDRIFT_SLACK_PRODUCTION"
        );
        assert!(!w.slack.as_ref().unwrap().allow_any_webhook_host);
        assert!(w.digest.as_ref().unwrap().enabled);
        assert_eq!(c.workspaces[1].dir, PathBuf::from("."));
    }

    #[test]
    fn relative_paths_follow_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tfdrift.hcl");
        std::fs::write(&path, GOOD).unwrap();
        let c = Config::load(Some(&path)).unwrap();
        assert_eq!(
            c.database.clone().unwrap(),
            dir.path().join("data/tfdrift.db")
        );
        let w = c.workspace(Some("production"), Path::new(".")).unwrap();
        assert_eq!(w.dir, dir.path().join("infra/prod"));
        assert_eq!(w.states[0], "s3://tf-state/prod/terraform.tfstate");
        assert_eq!(
            w.states[1],
            dir.path().join("local.tfstate").display().to_string()
        );
        let err = c.workspace(Some("prod"), Path::new(".")).unwrap_err();
        assert!(
            err.to_string().contains("(it has: production, staging)"),
            "{err}"
        );
    }

    #[test]
    fn errors_give_file_line_and_column() {
        for (text, want) in [
            (
                "workspace \"p\" {\n  regions = \"eu-west-1\"\n}\n",
                "c.hcl:2:3: `regions` must be a list of strings",
            ),
            (
                "workspace \"p\" {\n  slack {\n    webhook_url = \"https://hooks.slack.com/x\"\n  }\n}\n",
                "c.hcl:3:5: unknown field `webhook_url` in workspace \"p\" slack; webhook URLs never go in this file",
            ),
            (
                "retention_days = 0\n",
                "c.hcl:1:1: `retention_days` must be a whole number above 0",
            ),
            (
                "workspace \"p\" {\n  regons = []\n}\n",
                "c.hcl:2:3: unknown field `regons`",
            ),
            (
                "workspace \"p\" {}\nworkspace \"p\" {}\n",
                "c.hcl:2:11: workspace \"p\" is declared twice",
            ),
            (
                "workspace \"p\" {\n  dir = \n}\n",
                "c.hcl:2:9: invalid expression",
            ),
            ("bogus {}\n", "c.hcl:1:1: unknown block `bogus`"),
            (
                "workspace \"p\" {\n  schedule = \"every hour\"\n}\n",
                "c.hcl:2:3: invalid schedule \"every hour\"",
            ),
            (
                "workspace \"p\" {\n  digest {\n    timezone = \"Mars/Olympus\"\n  }\n}\n",
                "c.hcl:3:5: unknown time zone \"Mars/Olympus\"",
            ),
        ] {
            let err = parse(text, "c.hcl").unwrap_err().to_string();
            assert!(err.starts_with(want), "{text:?}\n got: {err}\nwant: {want}");
        }
    }

    #[test]
    fn accounts_and_an_organization() {
        let c = parse(
            r#"
workspace "platform" {
  states = ["states/*.tfstate"]
  max_concurrent_calls = 40
  organization {
    role_name = "tfdrift-read"
    include   = ["ou-ab12-cdef3456", "r-ab12"]
    exclude   = ["123456789012"]
  }
  account "111111111111" {
    role_name       = "audit/tfdrift-read"
    external_id_env = "TFDRIFT_EXTERNAL_ID"
    session_name    = "tfdrift@ci"
    states          = ["states/prod-*"]
    regions         = ["eu-west-1"]
  }
  account "222222222222" {}
}
"#,
            "c.hcl",
        )
        .unwrap();
        let w = &c.workspaces[0];
        assert!(w.is_multi_account());
        assert_eq!(w.max_concurrent_calls, Some(40));
        assert_eq!(w.max_concurrent_calls_per_account, None);
        let org = w.organization.as_ref().unwrap();
        assert_eq!(org.role.role_name.as_deref(), Some("tfdrift-read"));
        assert_eq!(org.include, ["ou-ab12-cdef3456", "r-ab12"]);
        assert_eq!(org.exclude, ["123456789012"]);
        assert_eq!(w.accounts.len(), 2);
        let a = &w.accounts[0];
        assert_eq!(a.id, "111111111111");
        assert_eq!(a.role.role_name.as_deref(), Some("audit/tfdrift-read"));
        assert_eq!(
            a.role.external_id_env.as_deref(),
            Some("TFDRIFT_EXTERNAL_ID")
        );
        assert_eq!(a.states, ["states/prod-*"]);
        assert_eq!(w.accounts[1].role, Role::default());
        assert!(!c.workspaces.is_empty() && !Workspace::default().is_multi_account());
    }

    #[test]
    fn account_errors_give_file_line_and_column() {
        for (text, want) in [
            (
                "workspace \"p\" {\n  account \"1234\" {}\n}\n",
                "c.hcl:2:3: workspace \"p\": an account block is `account \"123456789012\"",
            ),
            (
                "workspace \"p\" {\n  account \"111111111111\" {}\n  account \"111111111111\" {}\n}\n",
                "c.hcl:3:3: account 111111111111 is declared twice",
            ),
            (
                "workspace \"p\" {\n  account \"111111111111\" {\n    role_name = \"arn:aws:iam::111111111111:role/x\"\n  }\n}\n",
                "c.hcl:3:5: `role_name` is the role's name",
            ),
            (
                "workspace \"p\" {\n  account \"111111111111\" {\n    external_id = \"s3cret\"\n  }\n}\n",
                "c.hcl:3:5: unknown field `external_id`",
            ),
            (
                "workspace \"p\" {\n  organization {\n    include = [\"prod\"]\n    role_name = \"r\"\n  }\n}\n",
                "c.hcl:3:5: `include` holds account ids",
            ),
            (
                "workspace \"p\" {\n  organization {\n    include = []\n  }\n}\n",
                "c.hcl:2:3: workspace \"p\" organization: `role_name`",
            ),
            (
                "workspace \"a\" {\n  account \"111111111111\" {}\n}\nworkspace \"b\" {\n  account \"111111111111\" {\n    role_name = \"arn:x\"\n  }\n}\n",
                "c.hcl:6:5: `role_name` is the role's name",
            ),
            (
                "workspace \"a\" {\n  organization {\n    role_name = \"r\"\n  }\n}\nworkspace \"b\" {\n  organization {\n    role_name = \"r\"\n    exclude = [\"x\"]\n  }\n}\n",
                "c.hcl:9:5: `exclude` holds account ids",
            ),
            (
                "workspace \"p\" {\n  max_concurrent_calls = 0\n}\n",
                "c.hcl:2:3: `max_concurrent_calls` must be a whole number above 0",
            ),
            (
                "workspace \"p\" {\n  account \"111111111111\" {\n    session_name = \"a b\"\n  }\n}\n",
                "c.hcl:3:5: `session_name` must be 2-64",
            ),
        ] {
            let err = parse(text, "c.hcl").unwrap_err().to_string();
            assert!(err.starts_with(want), "{text:?}\n got: {err}\nwant: {want}");
        }
    }

    #[test]
    fn the_audit_block() {
        let c = parse(
            "audit {\n  log = \"audit/log.jsonl\"\n  signing_key_env = \"TFDRIFT_AUDIT_KEY\"\n}\n",
            "c.hcl",
        )
        .unwrap();
        let a = c.audit.unwrap();
        assert_eq!(a.log, PathBuf::from("audit/log.jsonl"));
        assert_eq!(a.signing_key_env.as_deref(), Some("TFDRIFT_AUDIT_KEY"));
        for (text, want) in [
            (
                "audit {\n  log = \"l\"\n}\n",
                "c.hcl:1:1: audit: name the signing key once",
            ),
            (
                "audit {\n  log = \"l\"\n  signing_key_file = \"k\"\n  signing_key_env = \"K\"\n}\n",
                "c.hcl:1:1: audit: name the signing key once",
            ),
            (
                "audit {\n  signing_key_file = \"k\"\n}\n",
                "c.hcl:1:1: audit: `log` (the log file) is required",
            ),
            (
                "audit {\n  log = \"l\"\n  signing_key_env = \"-----BEGIN\"\n}\n",
                "c.hcl:3:3: `signing_key_env` names an environment variable",
            ),
            (
                "audit {\n  log = \"l\"\n  signing_key = \"x\"\n}\n",
                "c.hcl:3:3: unknown field `signing_key` in audit",
            ),
        ] {
            let err = parse(text, "c.hcl").unwrap_err().to_string();
            assert!(err.starts_with(want), "{text:?}\n got: {err}\nwant: {want}");
        }
    }

    #[test]
    fn no_file_implies_a_workspace_named_after_the_directory() {
        let dir = tempfile::tempdir().unwrap();
        let prod = dir.path().join("prod");
        std::fs::create_dir(&prod).unwrap();
        let w = Config::default().workspace(None, &prod).unwrap();
        assert_eq!(w.name, "prod");
        assert_eq!(w.dir, prod);
    }
}
