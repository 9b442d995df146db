//! Deliver one workspace's briefing for one period, as the daemon and
//! `tfdrift digest --send` both do, exactly once per period.

use std::path::Path;

use time::OffsetDateTime;

use crate::config::Workspace;
use crate::digest::slack::{self, SendOptions, SlackError, Webhook};
use crate::digest::{Briefing, DigestError, Format};
use crate::model::DeliveryStatus;
use crate::schedule::{DEFAULT_DIGEST_SCHEDULE, Schedule, ScheduleError};
use crate::store::{Claim, DigestRecord, Location, Store, StoreError};

/// A failed briefing is retried at later ticks this many times.
pub const DIGEST_ATTEMPTS: i64 = 10;

#[derive(Debug, thiserror::Error)]
pub enum BriefingError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Digest(#[from] DigestError),
    #[error(transparent)]
    Slack(#[from] SlackError),
    #[error("workspace {workspace}: {message}")]
    Workspace { workspace: String, message: String },
    #[error("the briefing was sent, but not written to the audit log: {0}")]
    Audit(crate::audit::AuditError),
    #[error("workspace {workspace}: {source}")]
    Schedule {
        workspace: String,
        #[source]
        source: ScheduleError,
    },
}

/// The period a briefing sent at `now` belongs to: the digest schedule's
/// latest slot, so a manual send and the daemon agree on "this week".
pub fn current_slot(
    workspace: &Workspace,
    now: OffsetDateTime,
) -> Result<OffsetDateTime, BriefingError> {
    let digest = workspace.digest.clone().unwrap_or_default();
    let schedule = Schedule::parse(
        digest
            .schedule
            .as_deref()
            .unwrap_or(DEFAULT_DIGEST_SCHEDULE),
        digest.timezone.as_deref().unwrap_or("UTC"),
    )
    .map_err(|source| BriefingError::Schedule {
        workspace: workspace.name.clone(),
        source,
    })?;
    Ok(schedule.latest(now).unwrap_or(now))
}

/// How a briefing delivery ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    Sent {
        messages: usize,
    },
    Quiet,
    AlreadyDone(DeliveryStatus),
    /// Another process is sending it right now.
    Busy,
}

/// Builds and posts the briefing for `slot`, exactly once per workspace
/// and period: the delivery is claimed in one transaction (so the daemon
/// and a manual send never both post it), the messages are stored with
/// the claim, and a delivery that failed half-way resumes at the first
/// message not yet sent, of the same briefing.
pub async fn deliver(
    db: &Location,
    workspace: &Workspace,
    days: u32,
    slot: OffsetDateTime,
    templates: Option<&Path>,
    opts: &SendOptions,
    audit: Option<&crate::config::Audit>,
) -> Result<Delivery, BriefingError> {
    let mut store = Store::open(db)?;
    let name = &workspace.name;
    let slack_cfg = workspace
        .slack
        .as_ref()
        .ok_or_else(|| BriefingError::Workspace {
            workspace: name.clone(),
            message: "has no slack { webhook_env = \"...\" } block to send to".into(),
        })?;
    // Read the clock now: after any scan this briefing waited for, so the
    // period includes what that scan found.
    let now = OffsetDateTime::now_utc().max(slot);
    let start = now - time::Duration::days(days.into());
    let mut record = match store.claim_digest(name, start, slot, DIGEST_ATTEMPTS, now)? {
        Claim::Claimed(r) => r,
        Claim::Busy => return Ok(Delivery::Busy),
        Claim::Done(status) => return Ok(Delivery::AlreadyDone(status)),
    };
    // A resumed delivery sends the rest of the briefing it started (the
    // store refuses a damaged one rather than let a new briefing skip its
    // first messages).
    let messages: Vec<serde_json::Value> = match record.payload.clone() {
        Some(stored) => stored,
        None => {
            let Some(briefing) = Briefing::build(&store, name, days, now)? else {
                record.status = DeliveryStatus::Quiet;
                store.save_digest(&record)?;
                return Ok(Delivery::Quiet);
            };
            let rendered = briefing.render(Format::Slack, templates)?;
            let messages =
                slack::messages(&rendered, &format!("Drift briefing — {}", briefing.title));
            record.messages = messages.len() as i64;
            record.payload = Some(messages.clone());
            store.save_digest(&record)?;
            messages
        }
    };
    let fail = |record: &mut DigestRecord, e: &SlackError| {
        record.status = match e {
            SlackError::Dead { .. } => DeliveryStatus::Dead,
            SlackError::Rejected { .. } => DeliveryStatus::Rejected,
            SlackError::MissingUrl(_) | SlackError::NotSlack(_) | SlackError::GaveUp { .. } => {
                DeliveryStatus::Failed
            }
        };
        record.error = Some(e.to_string());
    };
    let hook = match Webhook::from_env(&slack_cfg.webhook_env, slack_cfg.allow_any_webhook_host) {
        Ok(h) => h,
        Err(e) => {
            fail(&mut record, &e);
            store.save_digest(&record)?;
            return Err(e.into());
        }
    };
    for m in messages.iter().skip(record.messages_sent as usize) {
        if let Err(e) = slack::post(&hook, m, opts).await {
            fail(&mut record, &e);
            store.save_digest(&record)?;
            return Err(e.into());
        }
        record.messages_sent += 1;
        store.save_digest(&record)?;
    }
    record.status = DeliveryStatus::Sent;
    store.save_digest(&record)?;
    if let Some(audit) = audit {
        let entry =
            crate::audit::Entry::briefing(name, slot, &serde_json::Value::Array(messages.clone()));
        crate::audit::AuditLog::open(audit)
            .and_then(|log| log.append(&entry))
            .map_err(BriefingError::Audit)?;
    }
    Ok(Delivery::Sent {
        messages: messages.len(),
    })
}
