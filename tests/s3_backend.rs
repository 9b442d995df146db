//! State kept in S3: `--state s3://...` (one object and globs) and
//! discovery through a `backend "s3"` block with workspaces, against the
//! emulator's S3.

mod common;

use aws_sdk_ec2::types::Tag;
use common::{Emulator, Workspace, brief, row, tfdrift};
use serde_json::json;

async fn s3(emu: &Emulator) -> aws_sdk_s3::Client {
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .endpoint_url(emu.endpoint())
        .credentials_provider(aws_sdk_s3::config::Credentials::new(
            "test", "test", None, None, "tests",
        ))
        .load()
        .await;
    aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&config)
            .force_path_style(true)
            .build(),
    )
}

#[tokio::test]
async fn states_read_from_s3_urls_globs_and_backend_blocks() {
    let emu = Emulator::start();
    let ws = Workspace::apply(&emu, "network");
    emu.ec2()
        .await
        .create_tags()
        .resources(ws.id("aws_vpc.main"))
        .tags(Tag::builder().key("Env").value("prod").build())
        .send()
        .await
        .unwrap();
    let s3 = s3(&emu).await;
    s3.create_bucket().bucket("tf-states").send().await.unwrap();
    let body = std::fs::read(ws.state_path()).unwrap();
    for key in [
        "net/terraform.tfstate",
        "env:/staging/net/terraform.tfstate",
        "other/app.tfstate",
    ] {
        s3.put_object()
            .bucket("tf-states")
            .key(key)
            .body(body.clone().into())
            .send()
            .await
            .unwrap();
    }
    let expected = [row("changed", "aws_vpc.main", &["tags.Env"])];

    let run = tfdrift(
        &emu,
        ws.path(),
        &[
            "scan",
            "--format",
            "json",
            "--state",
            "s3://tf-states/net/terraform.tfstate",
        ],
    );
    let report = run.report();
    assert_eq!(brief(&report), expected, "{}", run.stderr);
    assert_eq!(
        report["scan"]["states"],
        json!(["s3://tf-states/net/terraform.tfstate"])
    );
    assert_eq!(
        report["findings"][0]["state"],
        json!("s3://tf-states/net/terraform.tfstate")
    );

    let run = tfdrift(
        &emu,
        ws.path(),
        &[
            "scan",
            "--format",
            "json",
            "--state",
            "s3://tf-states/**.tfstate",
        ],
    );
    let report = run.report();
    assert_eq!(brief(&report), expected, "{}", run.stderr);
    assert_eq!(report["scan"]["states"].as_array().unwrap().len(), 3);

    // Discovery: the backend block names the bucket and key; the
    // staging workspace lives under env:/ as Terraform puts it.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("backend.tf"),
        "terraform {\n  backend \"s3\" {\n    bucket = \"tf-states\"\n    key    = \"net/terraform.tfstate\"\n    region = \"us-east-1\"\n  }\n}\n",
    )
    .unwrap();
    let run = tfdrift(&emu, dir.path(), &["scan", "--format", "json"]);
    let report = run.report();
    assert_eq!(brief(&report), expected, "{}", run.stderr);
    assert_eq!(
        report["scan"]["states"],
        json!([
            "s3://tf-states/net/terraform.tfstate",
            "s3://tf-states/env:/staging/net/terraform.tfstate"
        ])
    );

    // A key that is not there is a clear error naming it, not an empty scan.
    let run = tfdrift(
        &emu,
        ws.path(),
        &["scan", "--state", "s3://tf-states/nope.tfstate"],
    );
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("s3://tf-states/nope.tfstate") && run.stderr.contains("NoSuchKey"),
        "{}",
        run.stderr
    );
    assert_eq!(run.stdout, "");
}
