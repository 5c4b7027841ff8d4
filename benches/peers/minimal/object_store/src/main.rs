//! put / get / list / delete of one object through object_store.
use futures::TryStreamExt;
use object_store::aws::AmazonS3Builder;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let env = |k: &str, d: &str| std::env::var(k).unwrap_or_else(|_| d.to_owned());
    let store = AmazonS3Builder::new()
        .with_endpoint(env("PEERS_ENDPOINT", "http://127.0.0.1:9000"))
        .with_allow_http(true)
        .with_virtual_hosted_style_request(false)
        .with_region("us-east-1")
        .with_bucket_name(env("PEERS_BUCKET", "peers"))
        .with_access_key_id(env("PEERS_ACCESS_KEY", "AKIDPEERSBENCH0000001"))
        .with_secret_access_key(env("PEERS_SECRET_KEY", "peers/bench+secret/0123456789abcdefABCDEF"))
        .build()?;
    let key = Path::from("minimal/hello.txt");
    store.put(&key, PutPayload::from_static(b"hello, s3")).await?;
    let body = store.get(&key).await?.bytes().await?;
    assert_eq!(&body[..], b"hello, s3");
    let listed: Vec<_> = store.list(Some(&Path::from("minimal"))).try_collect().await?;
    store.delete(&key).await?;
    println!(
        "object_store: got {} bytes, listed {} keys, deleted",
        body.len(),
        listed.len()
    );
    Ok(())
}
