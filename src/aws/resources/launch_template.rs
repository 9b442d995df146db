//! `aws_launch_template`. Compared: name, which version is the default
//! and which the latest, and tags. A version created or made default
//! outside Terraform shows here; the *content* of versions is not
//! compared yet (it needs DescribeLaunchTemplateVersions: docs/resources.md).

use aws_sdk_ec2::types::LaunchTemplate;

use super::{Kind, ListError, LiveResource, TypeSpec, name_tag, put, s, tags};
use crate::model::Attrs;

/// The write calls that can change this type (tag calls included): an
/// event that merely names a resource is not evidence of its change.
pub(super) const CHANGED_BY: &[&str] = &[
    "CreateLaunchTemplate",
    "CreateLaunchTemplateVersion",
    "ModifyLaunchTemplate",
    "DeleteLaunchTemplate",
    "DeleteLaunchTemplateVersions",
    "CreateTags",
    "DeleteTags",
];

pub(super) static SPEC: TypeSpec = TypeSpec {
    tf_type: "aws_launch_template",
    operation: "DescribeLaunchTemplates",
    service: "ec2",
    changed_by: CHANGED_BY,
    attrs: &[
        ("name", Kind::Scalar),
        ("default_version", Kind::Scalar),
        ("latest_version", Kind::Scalar),
        ("tags", Kind::Tags),
    ],
    list: Some(list),
    ..TypeSpec::BASE
};

// 200 is the API's maximum for this call.
paginated_list!(describe_launch_templates, 200, normalise);

fn normalise(t: &LaunchTemplate) -> LiveResource {
    let mut a = Attrs::new();
    a.insert("name".into(), s(t.launch_template_name()));
    put(&mut a, "default_version", t.default_version_number());
    put(&mut a, "latest_version", t.latest_version_number());
    a.insert("tags".into(), tags(t.tags()));
    let mut r = LiveResource::new(SPEC.tf_type, t.launch_template_id().unwrap_or_default(), a);
    r.name = t
        .launch_template_name()
        .map(str::to_string)
        .or_else(|| name_tag(t.tags()));
    r
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn versions_are_compared() {
        let t = LaunchTemplate::builder()
            .launch_template_id("lt-1")
            .launch_template_name("web")
            .default_version_number(1)
            .latest_version_number(3)
            .build();
        assert_eq!(
            json!(normalise(&t).attrs),
            json!({"name": "web", "default_version": 1, "latest_version": 3, "tags": {}})
        );
    }
}
