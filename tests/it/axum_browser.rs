#![allow(clippy::duplicate_mod)] // the example brings its own copy of the test server module
//! The axum example driven in headless Chromium: upload a file through the server and one
//! straight to S3 with the presigned POST form, see both listed, download them through their
//! links and compare the bytes, delete one.
//!
//! It needs Debian's `chromium` and `chromium-driver`, which `.ci/run` installs; elsewhere it
//! is skipped with a message, unless `STORAGES_S3_BROWSER_TESTS=1` demands it.

#[allow(dead_code)]
#[path = "../../examples/axum_uploads.rs"]
mod app;

use crate::common::webdriver::{Browser, available};
use crate::common::{Bed, Style};
use storages_s3::http::{Body, HttpClient, HttpConfig};

async fn download(url: &str) -> Vec<u8> {
    let http = HttpClient::new(&HttpConfig::default()).unwrap();
    let uri: http::Uri = url.parse().unwrap();
    let req = http::Request::get(uri.clone())
        .header("host", uri.authority().unwrap().as_str())
        .body(Body::empty())
        .unwrap();
    let resp = http.send(req).await.unwrap();
    assert_eq!(resp.status(), 200, "{url}");
    resp.into_body().collect(64 << 20).await.unwrap().to_vec()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_through_the_server_and_straight_to_s3_in_a_browser() {
    let Some((chromium, driver)) = available() else {
        assert!(
            std::env::var("STORAGES_S3_BROWSER_TESTS").is_err(),
            "STORAGES_S3_BROWSER_TESTS is set but chromium and chromedriver are missing"
        );
        eprintln!("skipped: chromium and chromedriver are not installed (.ci/run installs them)");
        return;
    };
    let bed = Bed::new().await;
    let storage = bed
        .storage("browser", Style::Path, &[("file_overwrite", "false")])
        .await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let public = format!("http://{}", listener.local_addr().unwrap());
    let router = app::router(storage.clone(), public.clone());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });

    let files = tempfile::tempdir().unwrap();
    let through_server: Vec<u8> = (0..(6 << 20) + 12_345).map(|i| (i % 251) as u8).collect();
    let straight: Vec<u8> = (0..300_001).map(|i| (i % 241) as u8).collect();
    let a = files.path().join("via server.bin");
    let b = files.path().join("direct.bin");
    std::fs::write(&a, &through_server).unwrap();
    std::fs::write(&b, &straight).unwrap();

    let browser = Browser::start(&chromium, &driver).await;
    browser.goto(&format!("{public}/")).await;
    browser.wait_for("<h1>Uploads</h1>").await;
    let input = browser.find("#via-server input[type=file]").await;
    browser.type_into(&input, a.to_str().unwrap()).await;
    browser.click(&browser.find("#via-server button").await).await;
    // Django's generate_filename: spaces become underscores.
    browser.wait_for("via_server.bin</a>").await;

    let input = browser.find("#direct input[type=file]").await;
    browser.type_into(&input, b.to_str().unwrap()).await;
    browser.click(&browser.find("#direct button").await).await;
    browser.wait_for("direct.bin</a>").await;
    assert!(
        browser.url().await.starts_with(&public),
        "S3 sent the browser back to the app"
    );

    let mut seen = Vec::new();
    for link in browser.find_all("a.file").await {
        let href = browser.attribute(&link, "href").await.unwrap();
        seen.push(download(&href).await);
    }
    seen.sort();
    let mut expected = vec![through_server.clone(), straight.clone()];
    expected.sort();
    assert!(seen == expected, "downloaded files differ from the uploaded ones");

    browser.click(&browser.find("button.delete").await).await;
    for _ in 0..50 {
        if browser.find_all("a.file").await.len() == 1 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(
        browser.find_all("a.file").await.len(),
        1,
        "one file left after deleting one"
    );
    // The browser ends with the test: no Chromium left running.
    let profile = browser.profile_dir();
    assert!(browser.processes() > 0, "the browser runs with its profile folder");
    browser.close().await;
    let mut left = usize::MAX;
    for _ in 0..50 {
        left = crate::common::webdriver::browser_processes(&profile);
        if left == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(left, 0, "Chromium processes left after the test");
}
