//! The attribution stage against a scripted LookupEvents: the pacing of
//! calls (two a second per region), the backoff on throttling, the call
//! budget and the deadline, and the order in which the window and the
//! per-resource lookups are read. Time is paused, so the seconds of
//! pacing and backoff pass at once and are measured exactly.

use std::time::Duration;

use serde_json::json;
use tokio::time::Instant;

use super::*;
use crate::model::FindingKind;
use crate::test_support::{EventCall, ScriptedEvents, finding, write_event};

const US: &str = "us-east-1";
const EU: &str = "eu-west-1";
const AP: &str = "ap-south-1";

/// A changed security group in `region`.
fn group(id: &str, region: &str) -> Finding {
    let mut f = finding(
        FindingKind::Changed,
        "aws_security_group",
        id,
        &[("ingress", json!([]))],
    );
    f.region = region.to_string();
    f
}

/// `actor` opening a port on `id`.
fn opened(id: &str, actor: &str) -> RawEvent {
    write_event("AuthorizeSecurityGroupIngress", &[id], actor)
}

/// A page of writes to other resources.
fn noise() -> Vec<RawEvent> {
    (0..3)
        .map(|i| write_event("CreateTags", &[&format!("vol-{i}")], "bot"))
        .collect()
}

fn pages(n: usize) -> Vec<Vec<RawEvent>> {
    (0..n).map(|_| noise()).collect()
}

/// The default options, with a tighter budget where a test says.
fn opts() -> AttributeOptions {
    AttributeOptions::last_days(7)
}

fn gaps(calls: &[EventCall]) -> Vec<Duration> {
    calls.windows(2).map(|w| w[1].at - w[0].at).collect()
}

fn actor(f: &Finding) -> Option<&str> {
    f.attribution.as_ref().map(|a| a.actor.as_str())
}

/// (lookup, page) of each call, in order.
fn asked(calls: &[EventCall]) -> Vec<(Lookup, usize)> {
    calls.iter().map(|c| (c.lookup.clone(), c.page)).collect()
}

/// The wait `attribute` adds after the `n`th throttled answer in a row
/// (from 0): its backoff, then the pacing interval; plus up to 250 ms of
/// jitter, which the assertion allows for.
fn assert_backed_off(gap: Duration, n: u32) {
    let least = Duration::from_secs(1 << n) + CALL_INTERVAL;
    // The jitter is below 250 ms; the timer rounds up to the millisecond.
    let most = least + Duration::from_millis(251);
    assert!(
        gap >= least && gap <= most,
        "after throttle {n}: waited {gap:?}, not {least:?} plus jitter"
    );
}

#[tokio::test(start_paused = true)]
async fn calls_in_a_region_are_an_interval_apart_so_never_more_than_two_a_second() {
    let mut window = pages(4);
    window.push(vec![opened("sg-1", "jane")]);
    let source = ScriptedEvents::new().with_pages(US, Lookup::WriteEvents, window);
    let mut findings = vec![group("sg-1", US)];

    let started = Instant::now();
    let (info, errors) = attribute(&mut findings, &source, &opts()).await;

    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(actor(&findings[0]), Some("jane"));
    let calls = source.calls();
    assert_eq!(
        asked(&calls),
        (0..5).map(|p| (Lookup::WriteEvents, p)).collect::<Vec<_>>()
    );
    // The first call goes at once; each next one waits the interval, and
    // no longer.
    assert_eq!(calls[0].at, started);
    for gap in gaps(&calls) {
        assert!(
            gap >= CALL_INTERVAL && gap <= CALL_INTERVAL + Duration::from_millis(1),
            "{gap:?}"
        );
    }
    // LookupEvents' limit: two calls in any one second.
    for three in calls.windows(3) {
        assert!(three[2].at - three[0].at >= Duration::from_secs(1));
    }
    assert_eq!((info.lookups, info.events_read), (5, 13));
    assert_eq!((info.attributed, info.unattributed), (1, 0));
}

#[tokio::test(start_paused = true)]
async fn regions_are_paced_each_on_its_own_and_run_at_the_same_time() {
    let mut source = ScriptedEvents::new();
    let mut findings = Vec::new();
    for region in [US, EU, AP] {
        let mut window = pages(2);
        window.push(vec![opened(&format!("sg-{region}"), region)]);
        source = source.with_pages(region, Lookup::WriteEvents, window);
        findings.push(group(&format!("sg-{region}"), region));
    }

    let started = Instant::now();
    let (info, errors) = attribute(&mut findings, &source, &opts()).await;

    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(info.attributed, 3);
    for (f, region) in findings.iter().zip([US, EU, AP]) {
        assert_eq!(actor(f), Some(region));
    }
    for region in [US, EU, AP] {
        let calls = source.calls_in(region);
        assert_eq!(calls.len(), 3, "{region}");
        assert_eq!(calls[0].at, started, "{region} starts at once");
        assert!(gaps(&calls).iter().all(|g| *g >= CALL_INTERVAL), "{region}");
    }
    // Three regions of three calls take as long as one.
    let took = started.elapsed();
    assert!(
        took >= 2 * CALL_INTERVAL && took <= 2 * CALL_INTERVAL + Duration::from_millis(5),
        "{took:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn throttling_backs_off_one_two_four_seconds_and_then_succeeds() {
    let source = ScriptedEvents::new()
        .with_pages(US, Lookup::WriteEvents, vec![vec![opened("sg-1", "jane")]])
        .throttled(US, 3);
    let mut findings = vec![group("sg-1", US)];

    let (info, errors) = attribute(&mut findings, &source, &opts()).await;

    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(actor(&findings[0]), Some("jane"));
    let calls = source.calls();
    assert_eq!(
        calls.iter().map(|c| c.failed).collect::<Vec<_>>(),
        [
            Some(FailureKind::Throttled),
            Some(FailureKind::Throttled),
            Some(FailureKind::Throttled),
            None
        ]
    );
    for (n, gap) in gaps(&calls).into_iter().enumerate() {
        assert_backed_off(gap, n as u32);
    }
    // The retries are the same page, and count as calls.
    assert!(calls.iter().all(|c| c.page == 0));
    assert_eq!(info.lookups, 4);
}

#[tokio::test(start_paused = true)]
async fn throttling_gives_up_after_four_retries_with_an_attribution_error() {
    let source = ScriptedEvents::new()
        .with_pages(US, Lookup::WriteEvents, vec![vec![opened("sg-1", "jane")]])
        .throttled(US, 100);
    let mut findings = vec![group("sg-1", US), group("sg-2", US)];

    let (info, errors) = attribute(&mut findings, &source, &opts()).await;

    let calls = source.calls();
    assert_eq!(calls.len(), 1 + THROTTLE_RETRIES as usize);
    assert!(
        calls
            .iter()
            .all(|c| c.failed == Some(FailureKind::Throttled))
    );
    // 1, 2, 4 and 8 seconds.
    for (n, gap) in gaps(&calls).into_iter().enumerate() {
        assert_backed_off(gap, n as u32);
    }
    assert_eq!(errors.len(), 1, "{errors:?}");
    let e = &errors[0];
    assert_eq!(
        (e.stage, e.region.as_str(), e.tf_type, e.operation, e.kind),
        (
            Stage::Attribution,
            US,
            None,
            "LookupEvents",
            FailureKind::Throttled
        )
    );
    assert!(findings.iter().all(|f| f.attribution.is_none()));
    assert_eq!(
        (info.lookups, info.attributed, info.unattributed),
        (5, 0, 2)
    );
}

#[tokio::test(start_paused = true)]
async fn an_error_in_one_region_is_reported_there_and_the_others_are_attributed() {
    let source = ScriptedEvents::new()
        .with_pages(US, Lookup::WriteEvents, vec![vec![opened("sg-1", "jane")]])
        .failing(EU, FailureKind::AccessDenied);
    let mut findings = vec![group("sg-1", US), group("sg-2", EU)];

    let (info, errors) = attribute(&mut findings, &source, &opts()).await;

    assert_eq!(actor(&findings[0]), Some("jane"));
    assert!(findings[1].attribution.is_none());
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(
        (errors[0].region.as_str(), errors[0].kind),
        (EU, FailureKind::AccessDenied)
    );
    // Only throttling is retried.
    assert_eq!(source.calls_in(EU).len(), 1);
    assert_eq!(info.lookups, 2);
}

#[tokio::test(start_paused = true)]
async fn the_window_is_read_page_by_page_until_every_finding_has_its_newest_event() {
    let window = vec![
        vec![opened("sg-1", "newest")],
        vec![opened("sg-2", "bob"), opened("sg-1", "older")],
        noise(),
        noise(),
    ];
    let source = ScriptedEvents::new().with_pages(US, Lookup::WriteEvents, window);
    let mut findings = vec![group("sg-1", US), group("sg-2", US)];

    let (info, errors) = attribute(&mut findings, &source, &opts()).await;

    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(actor(&findings[0]), Some("newest"));
    assert_eq!(actor(&findings[1]), Some("bob"));
    // Stopped after the second page: nothing was left to find.
    assert_eq!(
        asked(&source.calls()),
        [(Lookup::WriteEvents, 0), (Lookup::WriteEvents, 1)]
    );
    assert_eq!((info.lookups, info.events_read), (2, 3));
}

#[tokio::test(start_paused = true)]
async fn a_window_read_to_its_end_needs_no_resource_lookups_and_spent_no_budget() {
    let source = ScriptedEvents::new().with_pages(US, Lookup::WriteEvents, pages(2));
    let mut findings = vec![group("sg-1", US)];

    let (info, errors) = attribute(&mut findings, &source, &opts()).await;

    // Every event a lookup of sg-1 could return was in the window.
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(
        asked(&source.calls()),
        [(Lookup::WriteEvents, 0), (Lookup::WriteEvents, 1)]
    );
    assert_eq!((info.attributed, info.unattributed), (0, 1));
}

#[tokio::test(start_paused = true)]
async fn a_spent_window_falls_back_to_resource_lookups_by_the_parent_id() {
    // A split-out rule is looked up by its group, whose id CloudTrail knows.
    let mut rule = finding(
        FindingKind::Changed,
        "aws_security_group_rule",
        "sgrule-123",
        &[("cidr_blocks", json!(["0.0.0.0/0"]))],
    );
    rule.related = vec!["sg-1".into()];
    let source = ScriptedEvents::new()
        .with_pages(US, Lookup::WriteEvents, pages(5))
        .with_pages(
            US,
            Lookup::Resource("sg-1".into()),
            vec![vec![opened("sg-1", "jane")]],
        )
        .with_pages(
            US,
            Lookup::Resource("sg-2".into()),
            // A launch names its group but does not change it.
            vec![
                vec![write_event("RunInstances", &["i-1", "sg-2"], "ci")],
                vec![opened("sg-2", "bob")],
                noise(),
            ],
        );
    let mut findings = vec![rule, group("sg-2", US)];
    let opts = AttributeOptions {
        window_pages: 2,
        ..opts()
    };

    let (info, errors) = attribute(&mut findings, &source, &opts).await;

    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(actor(&findings[0]), Some("jane"));
    assert_eq!(actor(&findings[1]), Some("bob"));
    let sg = |id: &str| Lookup::Resource(id.into());
    assert_eq!(
        asked(&source.calls()),
        [
            (Lookup::WriteEvents, 0),
            (Lookup::WriteEvents, 1),
            (sg("sg-1"), 0),
            (sg("sg-2"), 0),
            (sg("sg-2"), 1),
        ]
    );
    assert!(gaps(&source.calls()).iter().all(|g| *g >= CALL_INTERVAL));
    assert_eq!(info.lookups, 5);
}

#[tokio::test(start_paused = true)]
async fn the_call_budget_stops_lookups_and_is_reported() {
    let source = ScriptedEvents::new().with_pages(US, Lookup::WriteEvents, pages(10));
    let mut findings = vec![group("sg-1", US), group("sg-2", US)];
    let opts = AttributeOptions {
        max_calls: 3,
        ..opts()
    };

    let (info, errors) = attribute(&mut findings, &source, &opts).await;

    // All three on the window: none left for per-resource lookups.
    assert_eq!(
        asked(&source.calls()),
        (0..3).map(|p| (Lookup::WriteEvents, p)).collect::<Vec<_>>()
    );
    assert_eq!(errors.len(), 1, "{errors:?}");
    let e = &errors[0];
    assert_eq!(
        (e.stage, e.region.as_str(), e.kind),
        (Stage::Attribution, US, FailureKind::Budget)
    );
    assert!(e.message.contains("2 finding(s)"), "{}", e.message);
    assert!(e.message.contains("3 LookupEvents calls"), "{}", e.message);
    assert_eq!((info.lookups, info.unattributed), (3, 2));
}

#[tokio::test(start_paused = true)]
async fn throttled_retries_count_against_the_call_budget() {
    let source = ScriptedEvents::new()
        .with_pages(US, Lookup::WriteEvents, pages(10))
        .throttled(US, 3);
    let mut findings = vec![group("sg-1", US)];
    let opts = AttributeOptions {
        max_calls: 2,
        ..opts()
    };

    let (info, errors) = attribute(&mut findings, &source, &opts).await;

    // The retry after the first throttle spends the last call; throttled
    // again, the region stops there rather than overspend.
    assert_eq!(source.calls().len(), 2);
    assert_eq!(info.lookups, 2);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].kind, FailureKind::Throttled);
}

#[tokio::test(start_paused = true)]
async fn the_deadline_stops_calls_as_a_timeout() {
    let source = ScriptedEvents::new().with_pages(US, Lookup::WriteEvents, pages(10));
    let mut findings = vec![group("sg-1", US)];
    let opts = AttributeOptions {
        deadline: Duration::from_secs(2),
        ..opts()
    };

    let started = Instant::now();
    let (info, errors) = attribute(&mut findings, &source, &opts).await;

    // At 0, 0.55, 1.1 and 1.65 s; the next would be past the deadline, so
    // it is not waited for.
    assert_eq!(info.lookups, 4);
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(
        (errors[0].stage, errors[0].kind),
        (Stage::Attribution, FailureKind::Timeout)
    );
}
