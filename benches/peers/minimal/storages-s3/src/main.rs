//! put / get / list / delete of one object through storages-s3.
use std::collections::HashMap;

use storages_s3::Settings;
use storages_s3::config::ObjectParameters;
use storages_s3::s3::Client;
use storages_s3::s3::ListObjectsInput;

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
    let client = Client::new(&Settings::builder().options(o).no_globals().build()?)?;
    client
        .put_object("minimal/hello.txt", "hello, s3".into(), &ObjectParameters::new())
        .await?;
    let body = client
        .get_object("minimal/hello.txt", None)
        .await?
        .body
        .collect(1 << 20)
        .await?;
    assert_eq!(&body[..], b"hello, s3");
    let input = ListObjectsInput {
        prefix: Some("minimal/".into()),
        ..Default::default()
    };
    let (objects, _) = client.list_objects(input).collect_all().await?;
    client.delete_object("minimal/hello.txt").await?;
    println!(
        "storages-s3: got {} bytes, listed {} keys, deleted",
        body.len(),
        objects.len()
    );
    Ok(())
}
