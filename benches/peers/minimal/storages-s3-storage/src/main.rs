//! save / open+read / listdir / delete of one file through storages-s3's `S3Storage`.
use std::collections::HashMap;

use storages_s3::S3Storage;
use tokio::io::AsyncReadExt;

#[tokio::main(flavor = "current_thread")]
async fn main() -> storages_s3::Result<()> {
    let env = |k: &str, d: &str| std::env::var(k).unwrap_or_else(|_| d.to_owned());
    let o: HashMap<String, String> = [
        ("bucket_name", env("PEERS_BUCKET", "peers")),
        ("access_key", env("PEERS_ACCESS_KEY", "AKIDPEERSBENCH0000001")),
        (
            "secret_key",
            env("PEERS_SECRET_KEY", "peers/bench+secret/0123456789abcdefABCDEF"),
        ),
        ("region_name", "us-east-1".into()),
        ("endpoint_url", env("PEERS_ENDPOINT", "http://127.0.0.1:9000")),
        ("addressing_style", "path".into()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    let storage = S3Storage::builder().options(o).no_globals().build()?;
    let name = storage.save("minimal/hello.txt", "hello, s3", None).await?;
    let mut file = storage.open(&name, "rb").await?;
    let mut body = Vec::new();
    file.read_to_end(&mut body).await?;
    assert_eq!(&body[..], b"hello, s3");
    let (_, files) = storage.listdir("minimal").await?;
    storage.delete(&name).await?;
    println!(
        "storages-s3 (S3Storage): read {} bytes, listed {} files, deleted",
        body.len(),
        files.len()
    );
    Ok(())
}
