//! The human-readable report: findings grouped by kind, one line per
//! changed attribute as `path: expected → actual`, then what could not be
//! seen, then a one-line summary.

use std::collections::BTreeMap;
use std::fmt::Write;

use serde_json::Value;

use super::Report;
use crate::model::Attribution;
use crate::model::Stage;
use crate::model::{Finding, FindingKind};

pub fn render_table(r: &Report) -> String {
    let mut out = String::new();
    let s = &r.summary;
    // A scan of several accounts labels each finding with its account
    // (alias and id) and ends with a line per account.
    let multi = r.scan.account.is_none() && !r.scan.accounts.is_empty();
    let labels: BTreeMap<&str, String> = r
        .scan
        .accounts
        .iter()
        .map(|a| (a.id.as_str(), a.label()))
        .collect();
    let account_of = |id: Option<&String>| -> String {
        match id {
            Some(id) if multi => {
                let label = labels
                    .get(id.as_str())
                    .cloned()
                    .unwrap_or_else(|| id.clone());
                format!(", {label}")
            }
            _ => String::new(),
        }
    };
    let state_word = if r.scan.states.len() == 1 {
        "state"
    } else {
        "states"
    };
    let accounts = if multi {
        format!("{} accounts, ", r.scan.accounts.len())
    } else {
        String::new()
    };
    let _ = writeln!(
        out,
        "tfdrift scan of {} managed resources from {} {state_word}, in {accounts}{}: {}",
        s.managed,
        r.scan.states.len(),
        r.scan.regions.join(", "),
        if r.scan.complete {
            "complete"
        } else {
            "INCOMPLETE"
        }
    );

    for (kind, mark) in [
        (FindingKind::Changed, '~'),
        (FindingKind::Missing, '-'),
        (FindingKind::Unmanaged, '+'),
    ] {
        let group: Vec<&Finding> = r.findings.iter().filter(|f| f.kind == kind).collect();
        if group.is_empty() {
            continue;
        }
        let _ = writeln!(out, "\n{} ({})", kind.as_str().to_uppercase(), group.len());
        for f in group {
            let what = match &f.address {
                Some(a) => format!("{a}  {}", f.id),
                None => format!("{} {}", f.tf_type, f.id),
            };
            let name = f
                .name
                .as_deref()
                .map(|n| format!(" \"{n}\""))
                .unwrap_or_default();
            let severity = f
                .grade
                .as_ref()
                .map(|g| format!("{:<8} ", g.severity.as_str().to_uppercase()))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "  {mark} {severity}{what}{name}  ({}{})",
                f.region,
                account_of(f.account.as_ref())
            );
            if let Some(g) = &f.grade {
                let _ = writeln!(out, "      {}", g.reason);
            }
            if let Some(h) = &f.history {
                let since = h
                    .first_seen
                    .format(time::macros::format_description!("[year]-[month]-[day]"))
                    .unwrap_or_default();
                let _ = writeln!(out, "      id {} · open since {since}", h.ids.join(", "));
                if let Some(a) = &h.acknowledged {
                    let until = a
                        .until
                        .and_then(|u| {
                            u.format(time::macros::format_description!("[year]-[month]-[day]"))
                                .ok()
                        })
                        .map(|u| format!(" until {u}"))
                        .unwrap_or_default();
                    let _ = writeln!(out, "      ACKNOWLEDGED by {}{until}: {}", a.by, a.reason);
                }
            }
            if let Some(a) = &f.attribution {
                let _ = writeln!(out, "      {}", attribution_line(f.kind, a));
            }
            for c in &f.changes {
                let _ = writeln!(
                    out,
                    "      {}: {} → {}",
                    c.path,
                    show(&c.expected),
                    show(&c.actual)
                );
            }
        }
    }

    let listing_errors: Vec<_> = r
        .scan
        .errors
        .iter()
        .filter(|e| e.stage == Stage::Listing)
        .collect();
    if !listing_errors.is_empty() {
        let _ = writeln!(
            out,
            "\nINCOMPLETE: {} listing(s) failed; nothing in them was called missing",
            listing_errors.len()
        );
        // One cause (no credentials, an unreachable endpoint) usually fails
        // every listing alike: say it once, with where it happened.
        let mut causes: Vec<(String, &str, Vec<String>)> = Vec::new();
        for e in &listing_errors {
            let kind = serde_json::to_value(e.kind).ok();
            let kind = kind
                .as_ref()
                .and_then(Value::as_str)
                .unwrap_or("error")
                .to_string();
            let place = match (&e.account, e.tf_type) {
                (Some(a), None) => a.clone(),
                (Some(a), Some(t)) => format!("{a} {} {t}", e.region),
                (None, t) => format!("{} {}", e.region, t.unwrap_or_default()),
            };
            match causes
                .iter_mut()
                .find(|(k, m, _)| *k == kind && *m == e.message)
            {
                Some((_, _, places)) => places.push(place),
                None => causes.push((kind, &e.message, vec![place])),
            }
        }
        for (kind, message, places) in causes {
            let _ = writeln!(out, "  ! {kind}: {message}");
            let _ = writeln!(out, "    in {}", places.join(", "));
        }
    }
    for e in r.scan.errors.iter().filter(|e| e.stage == Stage::Details) {
        let _ = writeln!(
            out,
            "\nINCOMPLETE: {} per resource failed in {} {}: {}; those settings were not compared",
            e.operation,
            e.region,
            e.tf_type.unwrap_or_default(),
            e.message
        );
    }
    if let Some(m) = &r.scan.account_mismatch {
        let _ = writeln!(out, "\nWRONG ACCOUNT: {}", m.message());
    }
    if multi {
        accounts_section(&mut out, r);
    }
    unverified_section(&mut out, r);
    for e in r
        .scan
        .errors
        .iter()
        .filter(|e| e.stage == Stage::Attribution)
    {
        let _ = writeln!(
            out,
            "\nAttribution incomplete in {} (the scan is not): {}",
            e.region, e.message
        );
    }
    if s.not_checked > 0 {
        let types: Vec<String> = r
            .scan
            .not_checked_types
            .iter()
            .map(|(t, n)| format!("{t} ×{n}"))
            .collect();
        let _ = writeln!(
            out,
            "\nNot checked (type not supported yet): {}",
            types.join(", ")
        );
    }

    if s.autoscaling > 0 {
        let _ = writeln!(
            out,
            "\n{} instance(s) launched by Auto Scaling or a fleet: churn, not unmanaged",
            s.autoscaling
        );
    }
    if s.ignored > 0 {
        let _ = writeln!(
            out,
            "\n{} accepted finding(s) not shown (.tfdriftignore, --ignore); the JSON report lists them under \"ignored\"",
            s.ignored
        );
    }

    let _ = writeln!(
        out,
        "\n{} managed · {} in sync · {} changed · {} missing · {} unmanaged{}{} · coverage {:.1}%",
        s.managed,
        s.in_sync,
        s.changed,
        s.missing,
        s.unmanaged,
        if s.unverified > 0 {
            format!(" · {} unverified", s.unverified)
        } else {
            String::new()
        },
        if s.ignored > 0 {
            format!(" · {} ignored", s.ignored)
        } else {
            String::new()
        } + &if s.acknowledged > 0 {
            format!(" · {} acknowledged", s.acknowledged)
        } else {
            String::new()
        },
        s.coverage_percent
    );
    if r.findings.is_empty() && r.scan.complete {
        if s.unverified > 0 {
            let _ = writeln!(
                out,
                "No drift among the {} verified resources; {} could not be verified (above).",
                s.managed.saturating_sub(s.unverified),
                s.unverified
            );
        } else {
            let _ = writeln!(out, "No drift.");
        }
    }
    out
}

/// One line per account, worst first: its findings by kind, or why it
/// could not be seen.
fn accounts_section(out: &mut String, r: &Report) {
    let mut accounts: Vec<_> = r.scan.accounts.iter().collect();
    accounts.sort_by_key(|a| {
        (
            a.error.is_none(),
            std::cmp::Reverse(a.changed + a.missing + a.unmanaged),
            a.id.clone(),
        )
    });
    let width = accounts
        .iter()
        .map(|a| a.label().chars().count())
        .max()
        .unwrap_or(0);
    let _ = writeln!(out, "\nACCOUNTS ({})", accounts.len());
    for a in accounts {
        let what = match &a.error {
            Some(e) => format!("NOT SCANNED: {e}"),
            None if a.changed + a.missing + a.unmanaged == 0 => {
                let clean = if a.complete {
                    "no drift"
                } else {
                    "no drift seen"
                };
                format!("{clean} · {} managed", a.managed)
            }
            None => format!(
                "{} changed · {} missing · {} unmanaged · {} managed",
                a.changed, a.missing, a.unmanaged, a.managed
            ),
        };
        let mark = if a.complete { ' ' } else { '!' };
        let _ = writeln!(out, "  {mark} {:<width$}  {what}", a.label());
    }
}

/// "changed by jane@example.com (role R) via AuthorizeSecurityGroupIngress
/// · console · 2026-11-23 09:14 UTC".
fn attribution_line(kind: FindingKind, a: &Attribution) -> String {
    let verb = crate::attribute::verb(kind.as_str(), &a.event);
    let role = a
        .role
        .as_deref()
        .map(|r| format!(" (role {r})"))
        .unwrap_or_default();
    let when = a
        .time
        .and_then(|t| {
            t.format(time::macros::format_description!(
                "[year]-[month]-[day] [hour]:[minute] UTC"
            ))
            .ok()
        })
        .map(|t| format!(" · {t}"))
        .unwrap_or_default();
    format!(
        "{verb} by {}{role} via {} · {}{when}",
        a.actor,
        a.event,
        a.client.as_str()
    )
}

/// A value as a person reads it: strings quoted, nothing as `(none)`,
/// objects (rules, routes) as `key=value` pairs.
fn show(v: &Value) -> String {
    match v {
        Value::Null => "(none)".into(),
        Value::Object(m) => {
            // Rules and routes read best protocol and ports first.
            let rank = |k: &str| {
                ["protocol", "from_port", "to_port"]
                    .iter()
                    .position(|p| *p == k)
                    .unwrap_or(3)
            };
            let mut entries: Vec<_> = m.iter().collect();
            entries.sort_by_key(|(k, _)| rank(k));
            entries
                .into_iter()
                .map(|(k, v)| match v {
                    Value::String(s) => format!("{k}={s}"),
                    Value::Array(items) => format!(
                        "{k}=[{}]",
                        items
                            .iter()
                            .map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_string))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                    other => format!("{k}={other}"),
                })
                .collect::<Vec<_>>()
                .join(" ")
        }
        other => other.to_string(),
    }
}

/// At most this many unverified resources are named per reason; the rest
/// are counted.
const UNVERIFIED_SHOWN: usize = 10;

/// What could not be verified, grouped by reason with a count each, so a
/// scan that verified little never reads as clean.
fn unverified_section(out: &mut String, r: &Report) {
    if r.scan.unverified.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "\nUNVERIFIED ({}): managed resources that could not be checked, so they are neither in sync nor missing",
        r.scan.unverified.len()
    );
    let mut by_reason: BTreeMap<_, Vec<_>> = BTreeMap::new();
    for u in &r.scan.unverified {
        by_reason.entry(u.reason).or_default().push(u);
    }
    for (reason, group) in by_reason {
        let _ = writeln!(out, "  {} × {}", group.len(), reason.as_str());
        for u in group.iter().take(UNVERIFIED_SHOWN) {
            let account = u
                .account
                .as_deref()
                .map(|a| format!(", account {a}"))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "    ? {}  {}  ({}{account})",
                u.address, u.id, u.region
            );
        }
        if group.len() > UNVERIFIED_SHOWN {
            let _ = writeln!(out, "    … and {} more", group.len() - UNVERIFIED_SHOWN);
        }
    }
}
