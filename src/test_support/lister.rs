//! Listers that answer from a script, and one that makes chosen calls of
//! another fail or hang.
//!
//! Both log calls as [`ListerCall`]s, and the failing wrapper is told which
//! calls to break with the same values, so a test reads as what it
//! scripts: `.fail(ListerCall::list("eu-west-1", "aws_subnet"), kind)` and
//! then `lister.inner().count(&ListerCall::list("us-east-1", "aws_vpc"))`.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use futures::future::BoxFuture;

use crate::aws::{DetailTarget, ListError, Lister, LiveResource, TypeSpec};
use crate::model::{Attrs, FailureKind};

/// One call a lister received.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ListerCall {
    List {
        region: String,
        tf_type: &'static str,
    },
    Details {
        region: String,
        tf_type: &'static str,
        id: String,
    },
    CallerAccount,
}

impl ListerCall {
    pub fn list(region: &str, tf_type: &'static str) -> Self {
        Self::List {
            region: region.to_string(),
            tf_type,
        }
    }

    pub fn details(region: &str, tf_type: &'static str, id: &str) -> Self {
        Self::Details {
            region: region.to_string(),
            tf_type,
            id: id.to_string(),
        }
    }

    /// The operation AWS would have been asked, for injected errors.
    fn operation(&self, spec: Option<&'static TypeSpec>) -> &'static str {
        match (self, spec) {
            (Self::CallerAccount, _) => "GetCallerIdentity",
            (Self::Details { .. }, Some(s)) => {
                s.details.as_ref().map_or(s.operation, |d| d.operation)
            }
            (_, Some(s)) => s.operation,
            (_, None) => "",
        }
    }
}

/// A live resource as a listing returns it (region still empty: the scan
/// sets it), with `attrs` given as a JSON object.
pub fn live(tf_type: &'static str, id: &str, attrs: serde_json::Value) -> LiveResource {
    LiveResource::new(tf_type, id, attrs_of(attrs))
}

fn attrs_of(attrs: serde_json::Value) -> Attrs {
    match attrs {
        serde_json::Value::Object(map) => map.into_iter().collect(),
        other => panic!("attributes are a JSON object, not {other}"),
    }
}

/// Answers from canned resources and details, and logs every call.
///
/// A (region, type) with nothing scripted lists as empty — "none exist" —
/// and an id with no scripted details has none to add. Global types are
/// scripted under [`crate::aws::GLOBAL`], where the scan lists them.
#[derive(Debug, Default)]
pub struct ScriptedLister {
    account: String,
    listings: HashMap<(String, &'static str), Vec<LiveResource>>,
    details: HashMap<String, Attrs>,
    delay: Duration,
    calls: Mutex<Vec<ListerCall>>,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
}

impl ScriptedLister {
    /// A lister of nothing, for credentials of `account`.
    pub fn new(account: &str) -> Self {
        Self {
            account: account.to_string(),
            ..Self::default()
        }
    }

    /// `resources` are what listing `tf_type` in `region` returns.
    pub fn with_resources(
        mut self,
        region: &str,
        tf_type: &'static str,
        resources: Vec<LiveResource>,
    ) -> Self {
        self.listings
            .insert((region.to_string(), tf_type), resources);
        self
    }

    /// `attrs` are what reading the details of `id` returns.
    pub fn with_details(mut self, id: &str, attrs: serde_json::Value) -> Self {
        self.details.insert(id.to_string(), attrs_of(attrs));
        self
    }

    /// Every listing and detail call takes `delay` (of tokio's clock, so
    /// paused time skips it) before answering.
    pub fn with_delay(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }

    /// Every call so far, in the order they were made.
    pub fn calls(&self) -> Vec<ListerCall> {
        self.calls.lock().expect("not poisoned").clone()
    }

    /// How many times `call` was made.
    pub fn count(&self, call: &ListerCall) -> usize {
        self.calls
            .lock()
            .expect("not poisoned")
            .iter()
            .filter(|c| *c == call)
            .count()
    }

    /// The ids whose details were read, sorted.
    pub fn detail_ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = self
            .calls()
            .into_iter()
            .filter_map(|c| match c {
                ListerCall::Details { id, .. } => Some(id),
                _ => None,
            })
            .collect();
        ids.sort();
        ids
    }

    /// The most listing and detail calls that were ever in flight at once.
    pub fn max_in_flight(&self) -> usize {
        self.max_in_flight.load(Ordering::SeqCst)
    }

    /// Logs `call` and holds an in-flight slot until the answer is ready.
    async fn answer<T>(&self, call: ListerCall, answer: impl FnOnce() -> T) -> T {
        self.calls.lock().expect("not poisoned").push(call);
        let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.max_in_flight.fetch_max(now, Ordering::SeqCst);
        // Released on drop, so a call cancelled by a deadline frees it too.
        let _slot = Slot(&self.in_flight);
        if !self.delay.is_zero() {
            tokio::time::sleep(self.delay).await;
        }
        answer()
    }
}

struct Slot<'a>(&'a AtomicUsize);

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Lister for ScriptedLister {
    fn list<'a>(
        &'a self,
        region: &'a str,
        spec: &'static TypeSpec,
    ) -> BoxFuture<'a, Result<Vec<LiveResource>, ListError>> {
        Box::pin(async move {
            let call = ListerCall::list(region, spec.tf_type);
            Ok(self
                .answer(call, || {
                    self.listings
                        .get(&(region.to_string(), spec.tf_type))
                        .cloned()
                        .unwrap_or_default()
                })
                .await)
        })
    }

    fn details<'a>(
        &'a self,
        region: &'a str,
        spec: &'static TypeSpec,
        target: &'a DetailTarget,
    ) -> BoxFuture<'a, Result<Attrs, ListError>> {
        Box::pin(async move {
            let id = target.id.as_str();
            let call = ListerCall::details(region, spec.tf_type, id);
            Ok(self
                .answer(call, || self.details.get(id).cloned().unwrap_or_default())
                .await)
        })
    }

    fn caller_account(&self) -> BoxFuture<'_, Result<String, ListError>> {
        Box::pin(async move {
            self.calls
                .lock()
                .expect("not poisoned")
                .push(ListerCall::CallerAccount);
            Ok(self.account.clone())
        })
    }
}

/// What a broken call does.
#[derive(Debug, Clone, Copy)]
enum Fault {
    Fail(FailureKind),
    /// Never answers: only a deadline ends it.
    Hang,
}

/// Wraps any lister and breaks the calls it is told to; every other call
/// goes through. A broken call never reaches the inner lister, so its log
/// holds only the calls that did.
pub struct FailingLister<L> {
    inner: L,
    faults: HashMap<ListerCall, Fault>,
    injected: AtomicUsize,
}

impl<L: Lister> FailingLister<L> {
    pub fn new(inner: L) -> Self {
        Self {
            inner,
            faults: HashMap::new(),
            injected: AtomicUsize::new(0),
        }
    }

    /// `call` fails with an error of `kind`, every time.
    pub fn fail(mut self, call: ListerCall, kind: FailureKind) -> Self {
        self.faults.insert(call, Fault::Fail(kind));
        self
    }

    /// `call` never answers.
    pub fn hang(mut self, call: ListerCall) -> Self {
        self.faults.insert(call, Fault::Hang);
        self
    }

    pub fn inner(&self) -> &L {
        &self.inner
    }

    /// How many calls were broken.
    pub fn injected(&self) -> usize {
        self.injected.load(Ordering::SeqCst)
    }

    /// The fault for `call`, as an error to return, or a hang.
    async fn fault(
        &self,
        call: &ListerCall,
        spec: Option<&'static TypeSpec>,
    ) -> Result<(), ListError> {
        let Some(fault) = self.faults.get(call) else {
            return Ok(());
        };
        self.injected.fetch_add(1, Ordering::SeqCst);
        match fault {
            Fault::Fail(kind) => Err(ListError {
                operation: call.operation(spec),
                kind: *kind,
                message: format!("injected {kind:?} failure"),
            }),
            Fault::Hang => futures::future::pending().await,
        }
    }
}

impl<L: Lister> Lister for FailingLister<L> {
    fn list<'a>(
        &'a self,
        region: &'a str,
        spec: &'static TypeSpec,
    ) -> BoxFuture<'a, Result<Vec<LiveResource>, ListError>> {
        Box::pin(async move {
            self.fault(&ListerCall::list(region, spec.tf_type), Some(spec))
                .await?;
            self.inner.list(region, spec).await
        })
    }

    fn details<'a>(
        &'a self,
        region: &'a str,
        spec: &'static TypeSpec,
        target: &'a DetailTarget,
    ) -> BoxFuture<'a, Result<Attrs, ListError>> {
        Box::pin(async move {
            self.fault(
                &ListerCall::details(region, spec.tf_type, &target.id),
                Some(spec),
            )
            .await?;
            self.inner.details(region, spec, target).await
        })
    }

    fn caller_account(&self) -> BoxFuture<'_, Result<String, ListError>> {
        Box::pin(async move {
            self.fault(&ListerCall::CallerAccount, None).await?;
            self.inner.caller_account().await
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::aws::GLOBAL;

    #[tokio::test]
    async fn scripted_answers_unscripted_is_empty_and_every_call_is_logged() {
        let lister = ScriptedLister::new("111122223333")
            .with_resources(
                GLOBAL,
                "aws_iam_role",
                vec![live("aws_iam_role", "r", json!({}))],
            )
            .with_details("r", json!({"max_session_duration": 3600}));
        let spec = crate::aws::resources::find("aws_vpc").expect("a supported type");
        assert!(lister.list("us-east-1", spec).await.unwrap().is_empty());
        assert_eq!(
            lister
                .details(
                    GLOBAL,
                    spec,
                    &crate::aws::DetailTarget {
                        id: "r".into(),
                        region: "us-east-1".into(),
                        wanted: Default::default(),
                    }
                )
                .await
                .unwrap()["max_session_duration"],
            3600
        );
        assert_eq!(lister.caller_account().await.unwrap(), "111122223333");
        assert_eq!(
            lister.calls(),
            [
                ListerCall::list("us-east-1", "aws_vpc"),
                ListerCall::details(GLOBAL, "aws_vpc", "r"),
                ListerCall::CallerAccount,
            ]
        );
    }

    #[tokio::test]
    async fn a_broken_call_names_the_operation_and_never_reaches_the_inner_lister() {
        let vpc = crate::aws::resources::find("aws_vpc").expect("a supported type");
        let lister = FailingLister::new(ScriptedLister::new("1"))
            .fail(
                ListerCall::list("us-east-1", "aws_vpc"),
                FailureKind::AccessDenied,
            )
            .fail(ListerCall::CallerAccount, FailureKind::Credentials);
        let err = lister.list("us-east-1", vpc).await.unwrap_err();
        assert_eq!(
            (err.operation, err.kind),
            ("DescribeVpcs", FailureKind::AccessDenied)
        );
        let err = lister.caller_account().await.unwrap_err();
        assert_eq!(
            (err.operation, err.kind),
            ("GetCallerIdentity", FailureKind::Credentials)
        );
        assert!(lister.list("eu-west-1", vpc).await.is_ok());
        assert_eq!(lister.injected(), 2);
        assert_eq!(
            lister.inner().calls(),
            [ListerCall::list("eu-west-1", "aws_vpc")]
        );
    }
}
