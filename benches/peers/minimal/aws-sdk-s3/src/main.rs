//! put / get / list / delete of one object through aws-sdk-s3.
use aws_sdk_s3::config::{Credentials, Region, RequestChecksumCalculation, ResponseChecksumValidation};
use aws_sdk_s3::primitives::ByteStream;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let env = |k: &str, d: &str| std::env::var(k).unwrap_or_else(|_| d.to_owned());
    let bucket = env("PEERS_BUCKET", "peers");
    let shared = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new(
            env("PEERS_ACCESS_KEY", "AKIDPEERSBENCH0000001"),
            env("PEERS_SECRET_KEY", "peers/bench+secret/0123456789abcdefABCDEF"),
            None,
            None,
            "static",
        ))
        .endpoint_url(env("PEERS_ENDPOINT", "http://127.0.0.1:9000"))
        .load()
        .await;
    let conf = aws_sdk_s3::config::Builder::from(&shared)
        .force_path_style(true)
        .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
        .response_checksum_validation(ResponseChecksumValidation::WhenRequired)
        .build();
    let client = aws_sdk_s3::Client::from_conf(conf);
    let key = "minimal/hello.txt";
    client
        .put_object()
        .bucket(&bucket)
        .key(key)
        .body(ByteStream::from_static(b"hello, s3"))
        .send()
        .await?;
    let body = client
        .get_object()
        .bucket(&bucket)
        .key(key)
        .send()
        .await?
        .body
        .collect()
        .await?
        .into_bytes();
    assert_eq!(&body[..], b"hello, s3");
    let listed = client
        .list_objects_v2()
        .bucket(&bucket)
        .prefix("minimal/")
        .send()
        .await?;
    client.delete_object().bucket(&bucket).key(key).send().await?;
    println!(
        "aws-sdk-s3: got {} bytes, listed {} keys, deleted",
        body.len(),
        listed.contents().len()
    );
    Ok(())
}
