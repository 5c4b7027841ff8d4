//! The provider presets and the test bed's server profiles, checked against the server
//! itself: what a preset (and the profile) says of conditional writes, SigV2 and bulk
//! delete is what the server does.

use storages_s3::Settings;
use storages_s3::config::{ChecksumAlgorithm, ObjectParameters};
use storages_s3::http::Body;
use storages_s3::s3::Client;
use storages_s3::s3::WriteOptions;

use crate::common::{Bed, Capability, Style};

/// Whether the server refuses a second `If-None-Match: *` upload of a key.
async fn honours_if_none_match(client: &Client) -> bool {
    let once = WriteOptions {
        if_none_match: true,
        checksum: None,
    };
    let params = ObjectParameters::new();
    client
        .put_object_with("probe/inm", Body::from("a"), &params, once)
        .await
        .unwrap();
    match client
        .put_object_with("probe/inm", Body::from("b"), &params, once)
        .await
    {
        Ok(_) => false,
        Err(e) if e.is_precondition_failed() => true,
        Err(e) => panic!("a second conditional PUT: {e}"),
    }
}

/// A client on `client`'s bucket with the bed's options and `extra`, without the provider
/// preset (which may refuse what the probe asks for).
fn probe_settings(bed: &Bed, client: &Client, extra: &[(&str, &str)]) -> Settings {
    let mut options = bed.options(client.bucket(), Style::Path);
    options.remove("provider");
    Settings::builder()
        .options(options)
        .options(extra.iter().copied())
        .no_globals()
        .build()
        .unwrap()
}

/// Whether a SigV2-signed request is accepted.
async fn takes_sigv2(bed: &Bed, client: &Client) -> bool {
    let v2 = Client::new(&probe_settings(bed, client, &[("signature_version", "s3")])).unwrap();
    v2.head_object("probe/inm", &ObjectParameters::new()).await.is_ok()
}

/// What the server does with an upload sent with `UNSIGNED-PAYLOAD` and an
/// `x-amz-checksum-crc64nvme` header (what `auto` payload signing sends over HTTPS), here
/// over the bed's own scheme: whether it is taken, and whether the server returns the
/// checksum with the object (`x-amz-checksum-mode: ENABLED`) so that reads are verified.
async fn stores_checksums(bed: &Bed, client: &Client) -> (bool, bool) {
    let settings = probe_settings(
        bed,
        client,
        &[
            ("payload_signing", "never"),
            ("request_checksum_calculation", "when_supported"),
        ],
    );
    assert_eq!(settings.upload_checksum(), Some(ChecksumAlgorithm::Crc64Nvme));
    let unsigned = Client::new(&settings).unwrap();
    let body = "unsigned, with a checksum";
    if unsigned
        .put_object("probe/unsigned", Body::from(body), &ObjectParameters::new())
        .await
        .is_err()
    {
        return (false, false);
    }
    let read = client.get_object("probe/unsigned", None).await.unwrap();
    let stated = read.head.checksum.clone();
    let mut read = read.body;
    let mut got = Vec::new();
    while let Some(chunk) = read.chunk().await {
        got.extend_from_slice(&chunk.unwrap());
    }
    assert_eq!(&got[..], body.as_bytes());
    let returned = match stated {
        Some(stored) => {
            assert_eq!(stored.algorithm, ChecksumAlgorithm::Crc64Nvme);
            assert_eq!(stored.value, ChecksumAlgorithm::Crc64Nvme.value_of(body.as_bytes()));
            assert!(read.verification().is_verified(), "{:?}", read.verification());
            true
        }
        None => false,
    };
    (true, returned)
}

#[tokio::test]
async fn presets_and_profiles_say_what_the_server_does() {
    let bed = Bed::new().await;
    let client = bed.client("presets", Style::Path).await;
    let conditional = honours_if_none_match(&client).await;
    let sigv2 = takes_sigv2(&bed, &client).await;
    let (checksum_taken, checksum_returned) = stores_checksums(&bed, &client).await;
    // DeleteObjects (bulk delete) works everywhere the suite runs.
    let deleted = client.delete_objects(&["probe/inm"]).await.unwrap();
    assert!(deleted.errors.is_empty(), "{:?}", deleted.errors);
    eprintln!(
        "{}: If-None-Match honoured: {conditional}, SigV2 taken: {sigv2}, DeleteObjects: true, \
         UNSIGNED-PAYLOAD with a CRC64NVME taken: {checksum_taken}, stored and returned: {checksum_returned}",
        bed.kind
    );
    assert_eq!(
        checksum_returned,
        bed.has(Capability::StoredChecksums),
        "the profile of {}",
        bed.kind
    );
    assert_eq!(
        conditional,
        bed.has(Capability::ConditionalWrites),
        "the profile of {}",
        bed.kind
    );
    // moto takes any signature, so SigV2 passes there whatever it implements.
    assert_eq!(sigv2, bed.has(Capability::SigV2), "the profile of {}", bed.kind);
    let Some(preset) = bed.kind.preset() else {
        eprintln!("{} has no provider preset: only its profile is checked", bed.kind);
        return;
    };
    let preset_settings = |extra: &[(&str, &str)]| {
        Settings::builder()
            .no_globals()
            .option("bucket_name", "media")
            .option("endpoint_url", "http://127.0.0.1:9000")
            .option("provider", preset)
            .options(extra.iter().copied())
            .build()
    };
    let defaults = preset_settings(&[]).unwrap();
    assert_eq!(defaults.conditional_writes(), conditional, "the {preset} preset");
    let v2 = preset_settings(&[("signature_version", "s3")]);
    assert_eq!(v2.is_ok(), sigv2, "the {preset} preset: {v2:?}");
    assert!(defaults.bulk_delete(), "the {preset} preset");
    if defaults.upload_checksum().is_some() {
        assert!(
            checksum_taken && checksum_returned,
            "the {preset} preset says uploads with a CRC64NVME are taken, and the checksum stored"
        );
    }
    // The storage built on the preset writes without overwriting as the server allows.
    let storage = bed
        .storage("presetsave", Style::Path, &[("file_overwrite", "false")])
        .await;
    assert_eq!(storage.settings().conditional_writes(), conditional);
}

#[test]
fn asking_a_preset_for_what_the_service_refuses_is_an_error() {
    let build = |provider: &str| {
        storages_s3::Settings::builder()
            .no_globals()
            .option("bucket_name", "media")
            .option("provider", provider)
            .option("signature_version", "s3")
            .build()
    };
    for provider in ["garage", "r2"] {
        let e = build(provider).unwrap_err();
        assert_eq!(e.setting(), Some("signature_version"), "{provider}");
        assert!(e.to_string().contains("SigV2"), "{e}");
    }
    for provider in ["aws", "minio", "rustfs"] {
        build(provider).unwrap();
    }
}
