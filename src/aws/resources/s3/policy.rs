//! `aws_s3_bucket_policy`, and the bucket's `policy` in every shape: v3's
//! inline `policy` attribute, v4's split resource, and `GetBucketPolicy`.
//! Compared as an IAM policy, statement by statement. A bucket without a
//! policy has a `null` one (S3 answers `NoSuchBucketPolicy`), so a policy
//! added by hand to a bucket whose state declares none shows as statements
//! added.

use futures::future::BoxFuture;
use serde_json::Value;

use super::super::{Kind, ListError, StateAttrs, TypeSpec};
use super::Setting;
use crate::model::{Attrs, canonical_policy};

pub(super) const ATTRS: &[(&str, Kind)] = &[("policy", Kind::Policy)];

pub(super) const SETTING: Setting = Setting {
    operation: "GetBucketPolicy",
    attrs: ATTRS,
    not_configured: Some("NoSuchBucketPolicy"),
    read,
};

pub(in crate::aws::resources) static SPEC: TypeSpec = super::setting_spec(
    "aws_s3_bucket_policy",
    &SETTING,
    &["PutBucketPolicy", "DeleteBucketPolicy"],
    from_state,
);

fn read<'a>(
    s3: &'a aws_sdk_s3::Client,
    bucket: &'a str,
) -> BoxFuture<'a, Result<Attrs, ListError>> {
    Box::pin(async move {
        let r = s3.get_bucket_policy().bucket(bucket).send().await;
        let out = super::answer(&SETTING, r)?;
        Ok(live(out.as_ref().and_then(|o| o.policy())))
    })
}

/// The live policy, canonical; `None` is no policy. Text that is no
/// policy document is kept as it is, and compared so.
pub(super) fn live(policy: Option<&str>) -> Attrs {
    let doc = match policy {
        None => Value::Null,
        Some(t) => canonical_policy(t).unwrap_or_else(|| Value::String(t.to_string())),
    };
    Attrs::from([("policy".to_string(), doc)])
}

/// The policy of a state that has the attribute: v3 writes `null` (and
/// v4's bucket `""`) for "none declared", which is compared as no policy.
pub(super) fn inline(state: &StateAttrs) -> Attrs {
    match state.get("policy") {
        None => Attrs::new(),
        Some(Value::String(s)) if !s.trim().is_empty() => {
            Attrs::from([("policy".to_string(), Value::String(s.clone()))])
        }
        Some(_) => Attrs::from([("policy".to_string(), Value::Null)]),
    }
}

fn from_state(state: &StateAttrs) -> Attrs {
    inline(state)
}

#[cfg(test)]
mod tests {
    use aws_sdk_s3::operation::get_bucket_policy::GetBucketPolicyError;
    use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
    use aws_smithy_runtime_api::client::result::SdkError;
    use aws_smithy_runtime_api::http::StatusCode;
    use aws_smithy_types::body::SdkBody;
    use aws_smithy_types::error::ErrorMetadata;
    use serde_json::json;

    use super::*;
    use crate::model::FailureKind;

    const DOC: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"PartnerRead","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":["s3:GetObject","s3:ListBucket"],"Resource":["arn:aws:s3:::tfd-data","arn:aws:s3:::tfd-data/*"]}]}"#;

    // The SDK's own error type, as a call returns it: its size is the SDK's.
    #[allow(clippy::result_large_err)]
    fn failed(code: &str) -> Result<(), SdkError<GetBucketPolicyError, HttpResponse>> {
        let err = GetBucketPolicyError::generic(ErrorMetadata::builder().code(code).build());
        let raw = HttpResponse::new(StatusCode::try_from(404).unwrap(), SdkBody::empty());
        Err(SdkError::service_error(err, raw))
    }

    #[test]
    fn no_such_bucket_policy_is_no_policy_and_other_errors_fail() {
        assert_eq!(
            super::super::answer(&SETTING, failed("NoSuchBucketPolicy")).unwrap(),
            None
        );
        let err = super::super::answer(&SETTING, failed("AccessDenied")).unwrap_err();
        assert_eq!(
            (err.operation, err.kind),
            ("GetBucketPolicy", FailureKind::AccessDenied)
        );
        assert_eq!(json!(live(None)), json!({"policy": null}));
    }

    #[test]
    fn live_policies_are_canonical_documents() {
        let got = live(Some(DOC));
        assert_eq!(got["policy"], canonical_policy(DOC).unwrap());
        assert_eq!(json!(live(Some("not json"))), json!({"policy": "not json"}));
    }

    #[test]
    fn a_state_without_a_policy_declares_none() {
        for (state, want) in [
            (json!({"policy": null}), json!({"policy": null})),
            (json!({"policy": ""}), json!({"policy": null})),
            (json!({"policy": DOC}), json!({"policy": DOC})),
            (json!({}), json!({})),
        ] {
            assert_eq!(json!(inline(state.as_object().unwrap())), want, "{state}");
        }
    }
}
