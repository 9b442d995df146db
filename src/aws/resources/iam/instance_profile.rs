//! `aws_iam_instance_profile`: its role and path. Not in the account's
//! authorization details (a profile without a role would be invisible
//! there): one paginated `ListInstanceProfiles`.

use aws_sdk_iam::types::InstanceProfile;
use futures::future::BoxFuture;
use serde_json::Value;

use super::super::{Clients, Kind, ListError, LiveResource, Scope, StateAttrs, TypeSpec, s};
use crate::model::Attrs;

pub(in crate::aws::resources) static SPEC: TypeSpec = TypeSpec {
    tf_type: "aws_iam_instance_profile",
    operation: "ListInstanceProfiles",
    service: "iam",
    scope: Scope::Global,
    changed_by: &[
        "CreateInstanceProfile",
        "DeleteInstanceProfile",
        "AddRoleToInstanceProfile",
        "RemoveRoleFromInstanceProfile",
        "TagInstanceProfile",
        "UntagInstanceProfile",
    ],
    attrs: &[("role", Kind::Scalar), ("path", Kind::Scalar)],
    list: Some(list),
    from_state: Some(from_state),
    ..TypeSpec::BASE
};

fn list(c: &Clients) -> BoxFuture<'_, Result<Vec<LiveResource>, ListError>> {
    Box::pin(async move {
        let profiles: Vec<InstanceProfile> = c
            .iam()
            .await
            .list_instance_profiles()
            .max_items(1000)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|e| ListError::from_sdk(SPEC.operation, e))?;
        Ok(profiles.iter().map(normalise).collect())
    })
}

fn normalise(p: &InstanceProfile) -> LiveResource {
    let mut a = Attrs::new();
    a.insert("role".into(), s(p.roles().first().map(|r| r.role_name())));
    a.insert("path".into(), Value::from(p.path()));
    let mut r = LiveResource::new(SPEC.tf_type, p.instance_profile_name(), a);
    r.name = Some(p.instance_profile_name().to_string());
    r
}

/// `role` (older states also record the deprecated `roles` list).
fn from_state(state: &StateAttrs) -> Attrs {
    let mut a = super::super::pick(state, SPEC.attrs);
    if a.get("role").is_none_or(crate::model::is_empty) {
        if let Some(first) = state
            .get("roles")
            .and_then(Value::as_array)
            .and_then(|r| r.first())
        {
            a.insert("role".into(), first.clone());
        }
    }
    a
}

#[cfg(test)]
mod tests {
    use aws_sdk_iam::primitives::DateTime;
    use aws_sdk_iam::types::Role;
    use serde_json::json;

    use super::*;

    #[test]
    fn normalises_profiles() {
        let role = Role::builder()
            .role_name("app")
            .path("/")
            .role_id("AROA1")
            .arn("arn:aws:iam::1:role/app")
            .create_date(DateTime::from_secs(0))
            .build()
            .unwrap();
        let p = InstanceProfile::builder()
            .instance_profile_name("app")
            .instance_profile_id("AIPA1")
            .arn("arn:aws:iam::1:instance-profile/app")
            .path("/")
            .create_date(DateTime::from_secs(0))
            .roles(role)
            .build()
            .unwrap();
        assert_eq!(
            json!(normalise(&p).attrs),
            json!({"role": "app", "path": "/"})
        );
        let state = json!({"role": null, "roles": ["app"], "path": "/"});
        assert_eq!(
            json!(from_state(state.as_object().unwrap())),
            json!({"role": "app", "path": "/"})
        );
    }
}
