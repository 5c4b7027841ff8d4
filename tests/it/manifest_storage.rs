//! `S3ManifestStaticStorage` against a real server: collectstatic of Django's edge tree
//! stores exactly what Django stored, `url()` resolves through the manifest, a second run
//! uploads nothing, and a manifest written by Django is read as it is.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use crate::common::{Bed, Style};
use sha2::Digest as _;
use storages_s3::collect::{CollectOptions, DEFAULT_IGNORE, collect};
use storages_s3::{S3ManifestStaticStorage, S3Storage};

fn goldens() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/goldens/static"))
}

fn recorded(run: &str) -> serde_json::Value {
    let text = std::fs::read_to_string(goldens().join("manifest").join(format!("{run}.s3.json"))).unwrap();
    serde_json::from_str(&text).unwrap()
}

async fn manifest_storage(bed: &Bed, bucket: &str, style: Style) -> S3ManifestStaticStorage {
    S3ManifestStaticStorage::from_builder(
        S3Storage::builder()
            .options(bed.options(bucket, style))
            .option("location", "static")
            .no_globals(),
    )
    .await
    .unwrap()
}

/// Every object under the location: key → sha256.
async fn stored(storage: &S3Storage) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let input = storages_s3::s3::ListObjectsInput {
        prefix: Some("static/".into()),
        ..Default::default()
    };
    let (objects, _) = storage.client().list_objects(input).collect_all().await.unwrap();
    for o in objects {
        let body = storage
            .client()
            .get_object(&o.key, None)
            .await
            .unwrap()
            .body
            .collect(1 << 24)
            .await
            .unwrap();
        out.insert(
            o.key["static/".len()..].to_owned(),
            hex::encode(sha2::Sha256::digest(&body)),
        );
    }
    out
}

async fn collectstatic_matches_django(style: Style) {
    let bed = Bed::new().await;
    let bucket = crate::common::unique_bucket("manifest");
    let first = S3Storage::builder()
        .options(bed.options(&bucket, style))
        .no_globals()
        .build()
        .unwrap();
    first.client().create_bucket().await.unwrap();
    let statics = manifest_storage(&bed, &bucket, style).await;
    assert!(statics.manifest().is_empty(), "no manifest yet");
    let tree = goldens().join("trees/edge");
    let noop = Arc::new(|_: &_| {});
    let report = collect(
        statics.storage(),
        &[tree.as_path().into()],
        &CollectOptions::default(),
        noop.clone(),
    )
    .await
    .unwrap();
    assert_eq!(report.uploaded, 25);
    let pp = statics
        .post_process_sources(&[tree.as_path().into()], &DEFAULT_IGNORE.map(String::from))
        .await
        .unwrap();
    assert_eq!(
        pp.post_processed, 25,
        "Django: 25 static files copied, 25 post-processed."
    );
    assert!(pp.manifest_written);

    // Every object Django stored, with the same bytes; the manifest as a set of paths.
    let django = recorded("edge");
    let mut expected: BTreeMap<String, String> = django["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["key"].as_str().unwrap().to_owned(),
                f["sha256"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let mut ours = stored(statics.storage()).await;
    let (their_manifest, our_manifest) = (expected.remove("staticfiles.json"), ours.remove("staticfiles.json"));
    assert!(their_manifest.is_some() && our_manifest.is_some());
    assert_eq!(ours, expected, "stored objects differ from Django's");
    let paths: BTreeMap<String, String> = serde_json::from_value(django["staticfiles_json"]["paths"].clone()).unwrap();
    let manifest = statics.manifest();
    let our_paths: BTreeMap<String, String> = manifest.paths().iter().cloned().collect();
    assert_eq!(our_paths, paths);
    assert_eq!(manifest.hash(), django["staticfiles_json"]["hash"].as_str().unwrap());

    // url() through the manifest, also from a storage made afterwards (it reads the manifest).
    let again = manifest_storage(&bed, &bucket, style).await;
    let url = again.url("css/main.css").await.unwrap();
    assert!(url.ends_with("/static/css/main.a63300133b21.css"), "{url}");
    let url = again.url("css/main.css?v=2#top").await.unwrap();
    assert!(url.ends_with("/static/css/main.a63300133b21.css?v=2#top"), "{url}");
    assert!(again.url("css/").await.unwrap().ends_with("/static/css/"));
    // url_with too goes through the manifest (signed here, so the options show).
    let signed = storages_s3::UrlOptions::new()
        .parameter("ResponseContentDisposition", "inline")
        .expire(std::time::Duration::from_secs(60));
    let url = again.url_with("css/main.css", &signed).await.unwrap();
    assert!(url.contains("/static/css/main.a63300133b21.css"), "{url}");
    assert!(url.contains("response-content-disposition=inline"), "{url}");
    // Through the Storage trait, as Django code would call it.
    let dynamic: &dyn storages_s3::Storage = &again;
    let url = dynamic.url("css/main.css").await.unwrap();
    assert!(url.ends_with("/static/css/main.a63300133b21.css"), "{url}");
    let e = again.url("css/nope.css").await.unwrap_err();
    assert!(
        e.is_not_found()
            && e.to_string()
                .contains("Missing staticfiles manifest entry for 'css/nope.css'"),
        "{e}"
    );
    assert!(
        again
            .clone()
            .with_debug(true)
            .url("css/main.css")
            .await
            .unwrap()
            .ends_with("/static/css/main.css")
    );

    // An unchanged tree uploads nothing, hashed copies and manifest included.
    let report = collect(
        again.storage(),
        &[tree.as_path().into()],
        &CollectOptions::default(),
        noop,
    )
    .await
    .unwrap();
    assert_eq!((report.uploaded, report.skipped), (0, 25));
    let pp = again
        .post_process_sources(&[tree.as_path().into()], &DEFAULT_IGNORE.map(String::from))
        .await
        .unwrap();
    assert_eq!((pp.uploaded, pp.manifest_written), (0, false), "{pp:?}");
}

#[tokio::test]
async fn a_manifest_written_by_django_is_read() {
    let bed = Bed::new().await;
    let bucket = crate::common::unique_bucket("djangomanifest");
    let plain = S3Storage::builder()
        .options(bed.options(&bucket, Style::Path))
        .option("location", "static")
        .no_globals()
        .build()
        .unwrap();
    plain.client().create_bucket().await.unwrap();
    let raw = recorded("edge")["staticfiles_json_raw"].as_str().unwrap().to_owned();
    plain.store("staticfiles.json", raw).await.unwrap();
    let statics = manifest_storage(&bed, &bucket, Style::Path).await;
    assert_eq!(statics.manifest().len(), 25);
    assert!(
        statics
            .url("js/app.js")
            .await
            .unwrap()
            .ends_with("/static/js/app.2aa082a92a13.js")
    );
    // A manifest that is not one is an error when the storage is made, as in Django.
    plain.store("staticfiles.json", "{\"version\": \"9\"}").await.unwrap();
    let e = S3ManifestStaticStorage::from_builder(
        S3Storage::builder()
            .options(bed.options(&bucket, Style::Path))
            .option("location", "static")
            .no_globals(),
    )
    .await
    .unwrap_err();
    assert!(
        e.to_string()
            .contains("Couldn't load manifest 'staticfiles.json' (version 1.1)"),
        "{e}"
    );
}

#[tokio::test]
async fn a_missing_reference_fails_like_django_and_stores_no_manifest() {
    let bed = Bed::new().await;
    let bucket = crate::common::unique_bucket("missingref");
    let plain = S3Storage::builder()
        .options(bed.options(&bucket, Style::Path))
        .no_globals()
        .build()
        .unwrap();
    plain.client().create_bucket().await.unwrap();
    let statics = manifest_storage(&bed, &bucket, Style::Path).await;
    let e = statics
        .post_process_sources(&[goldens().join("trees/edge_missing").into()], &[])
        .await
        .unwrap_err();
    assert!(e.is_not_found(), "{e}");
    assert!(e.to_string().contains("could not be found with"), "{e}");
    assert!(!statics.storage().exists("staticfiles.json").await.unwrap());
}

both_styles!(collectstatic_matches_django);
