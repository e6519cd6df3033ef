//! Exports of a group whose jobs the provider answered "no content" (J-Quants' 210): the job
//! completes with no rows, and both ways out end cleanly with the group's rows (none), where
//! the stream used to abort halfway on the empty archived page.

use devstack::stack::Counters;
use integration_tests::World;
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn a_group_with_a_no_content_job_exports_cleanly() {
    let mut w = World::on_plan(100, Counters::default(), &[], sandbox::Plan::Premium).await;
    w.stack.start_pollers(2);
    // Saturday noon in Tokyo: no morning session to serve, so every request answers 210.
    w.sandbox.set_clock("2026-12-05T03:00:00Z".parse().unwrap());
    let g = w
        .user
        .expect(
            Method::POST,
            "/v1/job-groups",
            Some(
                &json!({"data_source": "jquants-v2", "endpoint": "eq-bars-daily-am",
                         "symbols": ["7203", "6758"]}),
            ),
            202,
        )
        .await
        .unwrap();
    let id = g["id"].as_str().unwrap().to_owned();
    let done = w
        .user
        .wait_for_group(&id, std::time::Duration::from_secs(120))
        .await
        .unwrap();
    assert_eq!(
        (done["status"].as_str(), done["completed_jobs"].as_u64()),
        (Some("completed"), Some(2)),
        "{done}"
    );
    for format in ["csv", "ndjson"] {
        let (status, _, body) = w
            .user
            .text(&format!("/v1/job-groups/{id}/results?format={format}"))
            .await
            .expect("the stream ends cleanly");
        assert_eq!((status, body.as_str()), (200, ""), "{format}");
        let export = w
            .user
            .expect(
                Method::POST,
                &format!("/v1/job-groups/{id}/exports"),
                Some(&json!({ "format": format })),
                201,
            )
            .await
            .unwrap();
        assert_eq!(
            (
                export["rows"].as_u64(),
                export["bytes"].as_u64(),
                export["jobs"].as_u64()
            ),
            (Some(0), Some(0), Some(2)),
            "{export}"
        );
        let file = reqwest::get(export["url"].as_str().unwrap()).await.unwrap();
        assert_eq!(file.status(), 200);
        assert!(file.bytes().await.unwrap().is_empty());
    }
    let bad = w
        .user
        .call(
            Method::POST,
            &format!("/v1/job-groups/{id}/exports"),
            Some(&json!({"format": "xlsx"})),
        )
        .await
        .unwrap();
    assert_eq!(bad.status, 400, "{}", bad.body);
}

/// An export given up after its first part (the API's answer to a failure halfway: 503, no
/// link) leaves no unfinished upload in the bucket: the API's `AbortMultipartUpload`.
#[tokio::test]
async fn an_export_given_up_halfway_leaves_no_upload() {
    use shared::export::{ExportStore, PART_BYTES, S3Exports, Upload};
    integration_tests::require_emulator();
    let s =
        devstack::stack::LocalStack::start(&integration_tests::unique("x"), Counters::default())
            .await
            .unwrap();
    let bucket = s.api_config.raw_payload_bucket.clone();
    let exports = S3Exports::new(s.clients_for("ApiFunction").s3, &bucket);
    let uploads = || async {
        s.aws
            .s3
            .list_multipart_uploads()
            .bucket(&bucket)
            .send()
            .await
            .unwrap()
            .uploads()
            .len()
    };
    let mut upload = Upload::new("exports/u/g/given-up.csv".into(), "text/csv");
    exports
        .write(&mut upload, &vec![b'x'; PART_BYTES])
        .await
        .unwrap();
    assert_eq!(uploads().await, 1, "a part was sent");
    exports.abort(upload).await;
    assert_eq!(uploads().await, 0, "the upload is gone");
}
