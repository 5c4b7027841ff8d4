//! The first thing to run: saves a few uploads (text, an image, a CSS file that is stored
//! gzipped), lists them, reads one back with a seek, prints a URL, and deletes them.
//!
//! With `AWS_STORAGE_BUCKET_NAME` set (and the usual `AWS_*` settings: credentials,
//! `AWS_S3_REGION_NAME`, `AWS_S3_ENDPOINT_URL` for S3-compatible services) it works on that
//! bucket, in a folder of its own under `AWS_LOCATION` that it removes at the end.
//! Otherwise it starts an embedded S3 server (s3s-fs over a temporary directory, checking
//! signatures) so that it always runs:
//!
//! ```text
//! cargo run --example quickstart
//! ```

#[allow(dead_code)]
#[path = "../tests/it/common/server.rs"]
mod server;

use std::io::SeekFrom;
use std::time::SystemTime;

use storages_s3::{Content, S3Storage};
use tokio::io::{AsyncReadExt, AsyncSeekExt};

/// A 1x1 transparent PNG.
const PIXEL: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52, 0x00, 0x00, 0x00,
    0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4, 0x89, 0x00, 0x00, 0x00, 0x0d, 0x49,
    0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0x00, 0x01, 0x00, 0x00, 0x05, 0x00, 0x01, 0x0d, 0x0a, 0x2d, 0xb4, 0x00, 0x00,
    0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
];

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let stamp = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH)?.as_millis();
    let _embedded;
    let storage = if std::env::var("AWS_STORAGE_BUCKET_NAME").is_ok_and(|b| !b.is_empty()) {
        // Everything from the environment, in a folder of its own under AWS_LOCATION.
        let base = std::env::var("AWS_LOCATION").unwrap_or_default();
        let location = format!(
            "{}storages-s3-quickstart/{stamp}",
            if base.is_empty() {
                String::new()
            } else {
                format!("{}/", base.trim_end_matches('/'))
            }
        );
        println!("using the bucket named by AWS_STORAGE_BUCKET_NAME, in {location}/");
        S3Storage::builder()
            .option("location", location)
            .option("gzip", "true")
            .build()?
    } else {
        let server = server::Server::start().await;
        println!(
            "no AWS_STORAGE_BUCKET_NAME: started an embedded S3 server on {}",
            server.addr
        );
        let storage = S3Storage::builder()
            .options([
                ("bucket_name", "quickstart"),
                ("endpoint_url", &format!("http://{}", server.addr)),
                ("access_key", server::ACCESS_KEY),
                ("secret_key", server::SECRET_KEY),
                ("location", "media"),
                ("gzip", "true"),
                ("file_overwrite", "false"),
            ])
            .no_globals()
            .build()?;
        storage.client().create_bucket().await?;
        _embedded = server;
        storage
    };

    // Uploads: the name actually used comes back (a taken name gets a suffix when
    // file_overwrite is off).
    let notes = storage
        .save("notes/hello.txt", "Hello from storages-s3!\n", None)
        .await?;
    let avatar = storage
        .save("", Content::from(PIXEL).with_name("avatars/pixel.png"), None)
        .await?;
    let css = storage
        .save("static/site.css", "body { margin: 0; color: #222; }\n".repeat(50), None)
        .await?;
    let again = storage.save("notes/hello.txt", "Hello again!\n", None).await?;
    println!("saved {notes}, {avatar}, {css} and {again}");
    let head = storage
        .client()
        .head_object(&storage.key(&css)?, &Default::default())
        .await?;
    let stored = head
        .content_length
        .map_or("an unstated number of".to_owned(), |n| n.to_string());
    println!(
        "{css}: {stored} bytes stored as {:?} with Content-Encoding {:?}",
        head.content_type, head.content_encoding
    );

    // A listing, like a directory.
    let (dirs, files) = storage.listdir("").await?;
    println!("listdir(\"\"): dirs {dirs:?}, files {files:?}");
    let (_, notes_files) = storage.listdir("notes").await?;
    println!("listdir(\"notes\"): files {notes_files:?}");

    // Read one back from an offset: only the bytes asked for are fetched.
    let mut file = storage.open(&notes, "rb").await?;
    file.seek(SeekFrom::Start(11)).await?;
    let mut rest = String::new();
    file.read_to_string(&mut rest).await?;
    println!(
        "{notes} from byte 11: {rest:?} (size {} bytes)",
        storage.size(&notes).await?
    );
    let mut zipped = storage.open(&css, "r").await?;
    let mut text = String::new();
    zipped.read_to_string(&mut text).await?;
    println!("{css} reads back decompressed: {} bytes", text.len());

    // A URL to share.
    println!("url: {}", storage.url(&avatar).await?);

    // Clean up.
    for name in [&notes, &avatar, &css, &again] {
        storage.delete(name).await?;
    }
    let (dirs, files) = storage.listdir("").await?;
    println!("deleted everything: dirs {dirs:?}, files {files:?}");
    Ok(())
}
