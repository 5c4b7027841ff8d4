//! The first thing to run: stores, lists, reads, presigns and deletes a few objects.
//!
//! With `AWS_STORAGE_BUCKET_NAME` set (and the usual `AWS_*` settings: credentials,
//! `AWS_S3_REGION_NAME`, `AWS_S3_ENDPOINT_URL` for S3-compatible services) it works on that
//! bucket, under a prefix of its own that it cleans up. Otherwise it starts an embedded S3
//! server (s3s-fs over a temporary directory, checking signatures) so that it always runs:
//!
//! ```text
//! cargo run --example quickstart
//! ```

#[allow(dead_code)]
#[path = "../tests/common/server.rs"]
mod server;

use std::time::{Duration, SystemTime};

use storages_s3::Settings;
use storages_s3::config::ObjectParameters;
use storages_s3::http::Body;
use storages_s3::s3::Client;
use storages_s3::s3::multipart::{Upload, UploadOptions};
use storages_s3::s3::ops::get_object::ByteRange;
use storages_s3::s3::ops::list_objects::ListObjectsInput;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let _embedded;
    let (settings, create_bucket) = if std::env::var("AWS_STORAGE_BUCKET_NAME").is_ok_and(|b| !b.is_empty()) {
        println!("using the bucket named by AWS_STORAGE_BUCKET_NAME");
        (Settings::from_env()?, false)
    } else {
        let server = server::Server::start().await;
        println!(
            "no AWS_STORAGE_BUCKET_NAME: started an embedded S3 server on {}",
            server.addr
        );
        let settings = Settings::builder()
            .options([
                ("bucket_name", "quickstart"),
                ("endpoint_url", &format!("http://{}", server.addr)),
                ("access_key", server::ACCESS_KEY),
                ("secret_key", server::SECRET_KEY),
            ])
            .no_globals()
            .build()?;
        _embedded = server;
        (settings, true)
    };
    let client = Client::new(&settings)?;
    if create_bucket {
        client.create_bucket().await?;
    }
    let stamp = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH)?.as_millis();
    let prefix = format!("storages-s3-quickstart/{stamp}/");
    let key = |name: &str| format!("{prefix}{name}");

    // Small uploads, with their content type and metadata.
    let text: ObjectParameters =
        r#"{"ContentType": "text/plain; charset=utf-8", "Metadata": {"source": "quickstart"}}"#.parse()?;
    client
        .put_object(&key("notes/hello.txt"), Body::from("Hello from storages-s3!\n"), &text)
        .await?;
    let css: ObjectParameters = r#"{"ContentType": "text/css", "CacheControl": "max-age=31536000"}"#.parse()?;
    client
        .put_object(&key("static/site.css"), Body::from("body { margin: 0 }\n"), &css)
        .await?;
    println!("stored {} and {}", key("notes/hello.txt"), key("static/site.css"));

    // A large upload in parts, written piece by piece.
    let mut upload = Upload::new(&client, &key("big/data.bin"), UploadOptions::default())?;
    let piece = vec![42u8; 1 << 20];
    for _ in 0..20 {
        upload.write(&piece).await?;
    }
    let outcome = upload.finish().await?;
    println!("uploaded {} bytes in {} parts", outcome.size, outcome.parts);

    // A listing, like a directory.
    let input = ListObjectsInput {
        prefix: Some(prefix.clone()),
        delimiter: Some("/".into()),
        ..Default::default()
    };
    let (files, dirs) = client.list_objects(input).collect_all().await?;
    println!(
        "listing {prefix}: dirs {dirs:?}, files {:?}",
        files.iter().map(|f| &f.key).collect::<Vec<_>>()
    );

    // Metadata, and a part of an object.
    let head = client
        .head_object(&key("notes/hello.txt"), &ObjectParameters::new())
        .await?;
    println!(
        "hello.txt: {} bytes, {:?}, metadata {:?}",
        head.content_length, head.content_type, head.metadata
    );
    let part = client
        .get_object(&key("notes/hello.txt"), Some(ByteRange::Inclusive(0, 4)))
        .await?;
    println!(
        "first five bytes: {:?}",
        String::from_utf8_lossy(&part.body.collect(16).await?)
    );

    // A URL to share for an hour.
    let url = client
        .presign(
            http::Method::GET,
            &key("notes/hello.txt"),
            Duration::from_secs(3600),
            &[],
        )
        .await?;
    println!("presigned URL: {url}");

    // Clean up everything under the prefix.
    let (all, _) = client
        .list_objects(ListObjectsInput {
            prefix: Some(prefix.clone()),
            ..Default::default()
        })
        .collect_all()
        .await?;
    let keys: Vec<&str> = all.iter().map(|o| o.key.as_str()).collect();
    let deleted = client.delete_objects(&keys).await?;
    println!("deleted {} objects", deleted.deleted.len());
    Ok(())
}
