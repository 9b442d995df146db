//! One CloudTrail event, read into what attribution needs: who, through
//! what, when, and which resource ids it touched.
//!
//! The `CloudTrailEvent` string LookupEvents returns is the full record;
//! the identity lives in its `userIdentity`, whose shape depends on the
//! kind of principal. For assumed roles, the person is the *session name*:
//! IAM Identity Center (SSO) sets it to the user's sign-in name, and most
//! CI systems set it to something that names the pipeline.

use serde_json::Value;
use time::OffsetDateTime;

use crate::model::{Attribution, Client};

/// What LookupEvents returns for one event, before parsing.
#[derive(Debug, Clone, Default)]
pub struct RawEvent {
    pub event_id: String,
    pub event_name: String,
    pub event_time: Option<OffsetDateTime>,
    pub username: Option<String>,
    /// `Resources[].ResourceName`.
    pub resources: Vec<String>,
    /// The full record, a JSON string.
    pub cloud_trail_event: Option<String>,
}

/// An event ready to match against findings.
#[derive(Debug, Clone)]
pub struct TrailEvent {
    /// Every string in the event that could be a resource id: the
    /// `Resources` names, and the values in the request parameters and
    /// response elements (with the last segment of ARNs).
    pub ids: Vec<String>,
    /// A read-only call, or one that failed (`errorCode`): it changed
    /// nothing, so it explains nothing.
    pub changed_nothing: bool,
    pub attribution: Attribution,
}

impl TrailEvent {
    pub fn parse(raw: &RawEvent) -> Self {
        let record: Value = raw
            .cloud_trail_event
            .as_deref()
            .and_then(|s| serde_json::from_str(s).ok())
            .unwrap_or(Value::Null);
        let identity = &record["userIdentity"];
        let (actor, role) = actor(identity, raw.username.as_deref());
        let user_agent = record["userAgent"].as_str().map(str::to_string);
        let invoked_by = identity["invokedBy"].as_str();
        let client = match (invoked_by, &user_agent) {
            (Some(_), _) => Client::AwsService,
            (None, Some(ua)) => Client::from_user_agent(ua),
            (None, None) => Client::Other,
        };
        let mut ids = raw.resources.clone();
        collect_strings(&record["requestParameters"], &mut ids);
        collect_strings(&record["responseElements"], &mut ids);
        let read_only = record["readOnly"].as_bool().unwrap_or(false);
        let failed = !record["errorCode"].is_null();
        let time = raw.event_time.or_else(|| {
            record["eventTime"].as_str().and_then(|t| {
                OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339).ok()
            })
        });
        Self {
            ids,
            changed_nothing: read_only || failed,
            attribution: Attribution {
                actor,
                principal_arn: identity["arn"].as_str().map(str::to_string),
                role,
                event: raw.event_name.clone(),
                time,
                source_ip: record["sourceIPAddress"].as_str().map(str::to_string),
                user_agent,
                client,
                event_id: raw.event_id.clone(),
            },
        }
    }
}

/// The human behind a `userIdentity`, and the role they acted through.
fn actor(identity: &Value, username: Option<&str>) -> (String, Option<String>) {
    let arn = identity["arn"].as_str().unwrap_or_default();
    let text = |k: &str| identity[k].as_str().map(str::to_string);
    let (actor, role) = match identity["type"].as_str().unwrap_or_default() {
        "IAMUser" => (text("userName").or(username.map(Into::into)), None),
        "AssumedRole" => {
            // arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION
            let mut parts = arn.splitn(3, '/').skip(1);
            let role = parts.next().map(str::to_string).or_else(|| {
                identity["sessionContext"]["sessionIssuer"]["userName"]
                    .as_str()
                    .map(str::to_string)
            });
            // A service acting through its role is the service, not a
            // person; otherwise the session name is the person.
            let actor = text("invokedBy")
                .or_else(|| parts.next().map(str::to_string))
                .or_else(|| role.clone());
            (actor, role)
        }
        "Root" => (Some("root".into()), None),
        // arn:aws:sts::ACCOUNT:federated-user/NAME
        "FederatedUser" => (arn.rsplit('/').next().map(str::to_string), None),
        "AWSService" => (text("invokedBy"), None),
        "AWSAccount" => (text("accountId"), None),
        "IdentityCenterUser" => (
            identity["onBehalfOf"]["userId"]
                .as_str()
                .map(str::to_string),
            None,
        ),
        _ => (username.map(str::to_string), None),
    };
    (actor.unwrap_or_else(|| "unknown".into()), role)
}

/// Every string value under `v`; for ARNs and paths also the last
/// segment, where EC2 ARNs keep the id (`…:security-group/sg-123`).
fn collect_strings(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => {
            if let Some((_, last)) = s.rsplit_once('/') {
                out.push(last.to_string());
            }
            out.push(s.clone());
        }
        Value::Array(items) => items.iter().for_each(|i| collect_strings(i, out)),
        Value::Object(map) => map.values().for_each(|i| collect_strings(i, out)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn raw(record: Value) -> RawEvent {
        RawEvent {
            event_id: "e-1".into(),
            event_name: record["eventName"].as_str().unwrap_or("X").into(),
            cloud_trail_event: Some(record.to_string()),
            ..RawEvent::default()
        }
    }

    #[test]
    fn an_sso_session_is_the_person_with_the_role_kept_alongside() {
        // The shape CloudTrail records for an IAM Identity Center user.
        let e = TrailEvent::parse(&raw(json!({
            "eventName": "AuthorizeSecurityGroupIngress",
            "userIdentity": {
                "type": "AssumedRole",
                "arn": "arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Admin_abc123/jane@example.com",
                "sessionContext": {"sessionIssuer": {"userName": "AWSReservedSSO_Admin_abc123"}}
            },
            "eventTime": "2026-11-20T10:00:00Z",
            "sourceIPAddress": "203.0.113.7",
            "userAgent": "AWS Internal",
            "requestParameters": {"groupId": "sg-0abc", "ipPermissions": {"items": [{"ipProtocol": "tcp"}]}},
            "readOnly": false
        })));
        let a = &e.attribution;
        assert_eq!(a.actor, "jane@example.com");
        assert_eq!(a.role.as_deref(), Some("AWSReservedSSO_Admin_abc123"));
        assert_eq!(a.client, Client::Console);
        assert_eq!(a.source_ip.as_deref(), Some("203.0.113.7"));
        assert_eq!(
            a.time,
            Some(time::macros::datetime!(2026-11-20 10:00:00 UTC))
        );
        assert!(e.ids.contains(&"sg-0abc".to_string()));
        assert!(!e.changed_nothing);
    }

    #[test]
    fn users_roles_root_federation_and_services() {
        let who = |identity: Value| {
            TrailEvent::parse(&raw(json!({"userIdentity": identity}))).attribution
        };
        let a = who(
            json!({"type": "IAMUser", "userName": "alice", "arn": "arn:aws:iam::1:user/alice"}),
        );
        assert_eq!((a.actor.as_str(), a.role), ("alice", None));
        let a = who(
            json!({"type": "AssumedRole", "arn": "arn:aws:sts::1:assumed-role/deploy/gh-run-42"}),
        );
        assert_eq!(
            (a.actor.as_str(), a.role.as_deref()),
            ("gh-run-42", Some("deploy"))
        );
        let a = who(json!({"type": "Root", "arn": "arn:aws:iam::1:root"}));
        assert_eq!(a.actor, "root");
        let a = who(json!({"type": "FederatedUser", "arn": "arn:aws:sts::1:federated-user/bob"}));
        assert_eq!(a.actor, "bob");
        let a = who(
            json!({"type": "AssumedRole", "invokedBy": "autoscaling.amazonaws.com",
                           "arn": "arn:aws:sts::1:assumed-role/AWSServiceRoleForAutoScaling/AutoScaling"}),
        );
        assert_eq!(
            (a.actor.as_str(), a.client),
            ("autoscaling.amazonaws.com", Client::AwsService)
        );
        let a = who(json!({"type": "AWSService", "invokedBy": "ec2.amazonaws.com"}));
        assert_eq!(a.actor, "ec2.amazonaws.com");
        // Nothing to go on: say so rather than guess.
        assert_eq!(who(json!({})).actor, "unknown");
    }

    #[test]
    fn user_agents() {
        use Client::*;
        for (ua, want) in [
            (
                "APN/1.0 HashiCorp/1.0 Terraform/1.9.8 (+https://www.terraform.io) terraform-provider-aws/5.80.0 (+https://registry.terraform.io/providers/hashicorp/aws) aws-sdk-go-v2/1.32.6",
                Terraform,
            ),
            (
                "aws-cli/2.22.4 md/awscrt#0.22.0 ua/2.0 os/linux#6.8 md/arch#x86_64 lang/python#3.12.6 md/pyimpl#CPython cfg/retry-mode#standard md/installer#exe md/distrib#ubuntu.24 cmd/ec2.authorize-security-group-ingress",
                Cli,
            ),
            ("AWS Internal", Console),
            ("console.ec2.amazonaws.com", Console),
            ("autoscaling.amazonaws.com", AwsService),
            ("Boto3/1.35.0 md/Botocore#1.35.0 ua/2.0 os/linux", Sdk),
            ("aws-sdk-rust/1.3.9 os/linux lang/rust/1.85.0", Sdk),
            ("curl/8.0", Other),
        ] {
            assert_eq!(Client::from_user_agent(ua), want, "{ua}");
        }
    }

    #[test]
    fn failed_and_read_only_calls_changed_nothing() {
        let failed = TrailEvent::parse(&raw(
            json!({"errorCode": "UnauthorizedOperation", "readOnly": false}),
        ));
        assert!(failed.changed_nothing);
        let read = TrailEvent::parse(&raw(json!({"readOnly": true})));
        assert!(read.changed_nothing);
    }

    #[test]
    fn ids_come_from_resources_parameters_responses_and_arns() {
        let mut r = raw(json!({
            "requestParameters": {"resourcesSet": {"items": [{"resourceId": "vol-1"}]}},
            "responseElements": {"instancesSet": {"items": [{"instanceId": "i-1"}]},
                                 "arn": "arn:aws:ec2:us-east-1:1:security-group/sg-9"}
        }));
        r.resources = vec!["rtb-1".into()];
        let ids = TrailEvent::parse(&r).ids;
        for id in ["rtb-1", "vol-1", "i-1", "sg-9"] {
            assert!(ids.contains(&id.to_string()), "{id} in {ids:?}");
        }
    }
}
