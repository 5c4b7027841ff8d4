use std::collections::HashMap;

use super::*;
use crate::ErrorKind;

fn globals(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

fn build(options: &[(&str, &str)], g: &[(&str, &str)]) -> Result<Settings> {
    Settings::builder()
        .options(options.iter().copied())
        .global_source(globals(g))
        .build()
}

const BUCKET: (&str, &str) = ("bucket_name", "b-1");

#[test]
fn table_has_every_original_option_with_its_global_name() {
    let expect = [
        ("bucket_name", "AWS_STORAGE_BUCKET_NAME"),
        ("location", "AWS_LOCATION"),
        ("file_overwrite", "AWS_S3_FILE_OVERWRITE"),
        ("object_parameters", "AWS_S3_OBJECT_PARAMETERS"),
        ("default_acl", "AWS_DEFAULT_ACL"),
        ("querystring_auth", "AWS_QUERYSTRING_AUTH"),
        ("querystring_expire", "AWS_QUERYSTRING_EXPIRE"),
        ("url_protocol", "AWS_S3_URL_PROTOCOL"),
        ("custom_domain", "AWS_S3_CUSTOM_DOMAIN"),
        ("public_domain", "AWS_S3_PUBLIC_DOMAIN"),
        ("endpoint_url", "AWS_S3_ENDPOINT_URL"),
        ("region_name", "AWS_S3_REGION_NAME"),
        ("use_ssl", "AWS_S3_USE_SSL"),
        ("verify", "AWS_S3_VERIFY"),
        ("addressing_style", "AWS_S3_ADDRESSING_STYLE"),
        ("signature_version", "AWS_S3_SIGNATURE_VERSION"),
        ("proxies", "AWS_S3_PROXIES"),
        ("client_config", "AWS_S3_CLIENT_CONFIG"),
        ("transfer_config", "AWS_S3_TRANSFER_CONFIG"),
        ("gzip", "AWS_IS_GZIPPED"),
        ("gzip_content_types", "GZIP_CONTENT_TYPES"),
        ("max_memory_size", "AWS_S3_MAX_MEMORY_SIZE"),
        ("file_name_charset", "AWS_S3_FILE_NAME_CHARSET"),
        ("access_key", "AWS_S3_ACCESS_KEY_ID"),
        ("secret_key", "AWS_S3_SECRET_ACCESS_KEY"),
        ("security_token", "AWS_SESSION_TOKEN"),
        ("session_profile", "AWS_S3_SESSION_PROFILE"),
        ("file_buffer_size", "AWS_S3_FILE_BUFFER_SIZE"),
        ("file_upload_temp_dir", "FILE_UPLOAD_TEMP_DIR"),
        ("use_tz", "USE_TZ"),
        ("time_zone", "TIME_ZONE"),
    ];
    for (option, global) in expect {
        let key = SettingKey::from_option_name(option).unwrap_or_else(|| panic!("missing {option}"));
        assert_eq!(key.info().globals[0], global, "{option}");
        assert_ne!(key.info().origin, Origin::Extension, "{option}");
    }
    // Rows are in key order, so `info()` indexes the table.
    for (i, row) in SETTINGS.iter().enumerate() {
        let key = SettingKey::from_option_name(row.option).unwrap();
        assert_eq!(key as usize, i);
        assert_eq!(SettingKey::ALL[i], key);
    }
    assert_eq!(
        SettingKey::SecretKey.info().globals,
        ["AWS_S3_SECRET_ACCESS_KEY", "AWS_SECRET_ACCESS_KEY"]
    );
    assert_eq!(
        SettingKey::SecurityToken.info().globals,
        ["AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"]
    );
    assert!(SettingKey::SecretKey.info().secret && SettingKey::SecurityToken.info().secret);
}

#[test]
fn defaults_match_the_original() {
    let s = build(&[BUCKET], &[]).unwrap();
    assert_eq!(s.location, "");
    assert!(s.file_overwrite);
    assert!(s.object_parameters.is_empty());
    assert_eq!(s.default_acl, None);
    assert!(s.querystring_auth);
    assert_eq!(s.querystring_expire, 3600);
    assert_eq!(s.url_protocol, "https:");
    assert!(s.use_ssl);
    assert_eq!(s.verify, Verify::Default);
    assert_eq!(s.signature_version, SignatureVersion::V4);
    assert!(!s.gzip);
    assert_eq!(s.gzip_content_types.len(), 5);
    assert_eq!(s.max_memory_size, 0);
    assert_eq!(s.file_name_charset, "utf-8");
    assert_eq!(s.file_buffer_size, 5 * 1024 * 1024);
    assert_eq!(s.transfer_config, TransferConfig::default());
    assert_eq!(s.region(), "us-east-1");
    assert_eq!(s.addressing_style(), AddressingStyle::Auto);
    // AWS itself: CRC64NVME on uploads, checked on reads.
    assert_eq!(s.upload_checksum(), Some(ChecksumAlgorithm::Crc64Nvme));
    assert_eq!(s.response_checksum_validation(), ChecksumPolicy::WhenSupported);
    assert_eq!(s.max_attempts(), 3);
    assert_eq!(s.connect_timeout(), Duration::from_secs(60));
}

#[test]
fn option_beats_global_beats_default() {
    let g = [("AWS_LOCATION", "from-env"), ("AWS_STORAGE_BUCKET_NAME", "envbucket")];
    let s = build(&[("location", "opt")], &g).unwrap();
    assert_eq!(s.location, "opt");
    assert_eq!(s.bucket(), "envbucket");
    let s = build(&[], &g).unwrap();
    assert_eq!(s.location, "from-env");
}

#[test]
fn globals_are_consulted_in_order_and_empty_ones_skipped() {
    let s = build(
        &[BUCKET],
        &[
            ("AWS_S3_ACCESS_KEY_ID", "s3key"),
            ("AWS_ACCESS_KEY_ID", "key"),
            ("AWS_S3_SECRET_ACCESS_KEY", "sec"),
        ],
    )
    .unwrap();
    assert_eq!(s.access_key.as_deref(), Some("s3key"));
    let s = build(
        &[BUCKET],
        &[
            ("AWS_S3_ACCESS_KEY_ID", ""),
            ("AWS_ACCESS_KEY_ID", "key"),
            ("AWS_SECRET_ACCESS_KEY", "sec"),
        ],
    )
    .unwrap();
    assert_eq!(s.access_key.as_deref(), Some("key"));
    assert_eq!(s.secret_key.as_ref().unwrap().expose(), "sec");
    let s = build(&[BUCKET], &[("AWS_SECURITY_TOKEN", "legacy")]).unwrap();
    assert_eq!(s.security_token.as_ref().unwrap().expose(), "legacy");
}

#[test]
fn static_storage_keeps_querystring_auth_off_against_globals() {
    let g = globals(&[("AWS_QUERYSTRING_AUTH", "True"), ("AWS_STORAGE_BUCKET_NAME", "b-1")]);
    let s = Settings::builder()
        .kind(StorageKind::Static)
        .global_source(g.clone())
        .build()
        .unwrap();
    assert!(!s.querystring_auth);
    let s = Settings::builder()
        .kind(StorageKind::Static)
        .option("querystring_auth", "true")
        .global_source(g.clone())
        .build()
        .unwrap();
    assert!(s.querystring_auth);
    let s = Settings::builder().global_source(g).build().unwrap();
    assert!(s.querystring_auth);
}

#[test]
fn unknown_option_is_refused_like_the_original() {
    let e = build(&[BUCKET, ("bucket", "x")], &[]).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidSetting);
    assert!(e.to_string().contains("Invalid setting 'bucket' for S3Storage"), "{e}");
    let e = Settings::builder()
        .kind(StorageKind::Static)
        .option("nope", "1")
        .no_globals()
        .build()
        .unwrap_err();
    assert!(e.to_string().contains("for S3StaticStorage"));
}

#[test]
fn bad_values_name_the_setting_and_where_it_came_from() {
    let e = build(&[BUCKET], &[("AWS_S3_FILE_OVERWRITE", "sometimes")]).unwrap_err();
    assert_eq!(e.setting(), Some("file_overwrite"));
    let msg = e.to_string();
    assert!(
        msg.contains("AWS_S3_FILE_OVERWRITE") && msg.contains("sometimes"),
        "{msg}"
    );
    let e = build(&[BUCKET, ("addressing_style", "dns")], &[]).unwrap_err();
    assert_eq!(e.setting(), Some("addressing_style"));
    let e = build(&[BUCKET, ("signature_version", "v5")], &[]).unwrap_err();
    assert_eq!(e.setting(), Some("signature_version"));
    let e = build(&[BUCKET, ("querystring_expire", "-5")], &[]).unwrap_err();
    assert_eq!(e.setting(), Some("querystring_expire"));
    let e = build(&[BUCKET, ("object_parameters", "{not json")], &[]).unwrap_err();
    assert_eq!(e.setting(), Some("object_parameters"));
}

#[test]
fn missing_or_invalid_bucket_fails_at_build() {
    let e = build(&[], &[]).unwrap_err();
    assert_eq!(e.setting(), Some("bucket_name"));
    for bad in ["a", "has space", "slash/inside", "-leading", "ünïcode"] {
        let e = build(&[("bucket_name", bad)], &[]).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidBucketName, "{bad}");
    }
    assert!(build(&[("bucket_name", "Legacy_Bucket.Name")], &[]).is_ok());
}

#[test]
fn location_with_leading_slash_suggests_the_fix() {
    let e = build(&[BUCKET, ("location", "/media")], &[]).unwrap_err();
    assert!(
        e.to_string()
            .contains("S3Storage.location cannot begin with a leading slash. Found '/media'. Use 'media' instead."),
        "{e}"
    );
    let e = build(&[BUCKET, ("location", "/")], &[]).unwrap_err();
    assert!(e.to_string().contains("Use '' instead."));
    assert_eq!(
        build(&[BUCKET, ("location", "media/")], &[]).unwrap().location,
        "media/"
    );
}

#[test]
fn url_protocol_and_domains_are_validated() {
    assert_eq!(
        build(&[BUCKET, ("url_protocol", "http")], &[]).unwrap().url_protocol,
        "http:"
    );
    assert_eq!(
        build(&[BUCKET, ("url_protocol", "http:")], &[]).unwrap().url_protocol,
        "http:"
    );
    assert!(build(&[BUCKET, ("url_protocol", "ht tp")], &[]).is_err());
    let e = build(&[BUCKET, ("custom_domain", "cdn.example.com/")], &[]).unwrap_err();
    assert_eq!(e.setting(), Some("custom_domain"));
    let e = build(&[BUCKET, ("public_domain", "https://files.example.com")], &[]).unwrap_err();
    assert_eq!(e.setting(), Some("public_domain"));
    assert!(build(&[BUCKET, ("custom_domain", "cdn.example.com/static")], &[]).is_ok());
}

#[test]
fn credentials_must_be_whole_and_not_mixed_with_a_profile() {
    let e = build(&[BUCKET, ("access_key", "AK")], &[]).unwrap_err();
    assert_eq!(e.setting(), Some("secret_key"));
    let e = build(&[BUCKET, ("secret_key", "SK")], &[]).unwrap_err();
    assert_eq!(e.setting(), Some("access_key"));
    // An ambient access key plus a profile is an error, as in the original.
    let e = build(
        &[BUCKET, ("session_profile", "dev")],
        &[("AWS_ACCESS_KEY_ID", "AK"), ("AWS_SECRET_ACCESS_KEY", "SK")],
    )
    .unwrap_err();
    assert_eq!(e.setting(), Some("session_profile"));
    assert!(build(&[BUCKET, ("session_profile", "dev"), ("security_token", "t")], &[]).is_ok());
}

#[test]
fn secrets_never_appear_in_debug_or_errors() {
    let s = build(
        &[
            BUCKET,
            ("access_key", "AKIDEXAMPLE"),
            ("secret_key", "TOPSECRET"),
            ("security_token", "TOKENSECRET"),
        ],
        &[],
    )
    .unwrap();
    let dbg = format!("{s:?}");
    assert!(!dbg.contains("TOPSECRET") && !dbg.contains("TOKENSECRET"), "{dbg}");
    let b = Settings::builder().option("secret_key", "TOPSECRET");
    assert!(!format!("{b:?}").contains("TOPSECRET"));
    // A secret whose value fails validation is not echoed.
    let e = build(&[BUCKET, ("secret_key", "TOPSECRET")], &[]).unwrap_err();
    assert!(!e.to_string().contains("TOPSECRET"));
    assert!(!format!("{e:?}").contains("TOPSECRET"));
}

#[test]
fn client_config_replaces_addressing_signature_and_proxies() {
    let s = build(
        &[
            BUCKET,
            ("addressing_style", "virtual"),
            ("signature_version", "s3"),
            ("proxies", r#"{"http": "p:1"}"#),
            (
                "client_config",
                r#"{"connect_timeout": 5, "retries": {"total_max_attempts": 7}}"#,
            ),
        ],
        &[],
    )
    .unwrap();
    assert_eq!(s.addressing_style(), AddressingStyle::Auto);
    assert_eq!(s.signature_version(), SignatureVersion::V4);
    assert_eq!(s.proxies(), Proxies::default());
    assert_eq!(s.connect_timeout(), Duration::from_secs(5));
    assert_eq!(s.max_attempts(), 7);
    let e = build(&[BUCKET, ("client_config", r#"{"connect_timeot": 5}"#)], &[]).unwrap_err();
    assert_eq!(e.setting(), Some("client_config"));
}

#[test]
fn provider_presets_set_defaults_but_never_override() {
    let endpoint = ("endpoint_url", "https://acct.r2.cloudflarestorage.com");
    let s = build(&[BUCKET, ("provider", "r2"), endpoint], &[]).unwrap();
    assert_eq!(s.region(), "auto");
    assert_eq!(s.addressing_style(), AddressingStyle::Path);
    assert!(s.conditional_writes());
    let s = build(
        &[
            BUCKET,
            ("provider", "r2"),
            endpoint,
            ("region_name", "us-east-1"),
            ("addressing_style", "virtual"),
        ],
        &[],
    )
    .unwrap();
    assert_eq!(s.region(), "us-east-1");
    assert_eq!(s.addressing_style(), AddressingStyle::Virtual);
    let s = build(&[BUCKET, ("provider", "garage")], &[]).unwrap();
    assert_eq!(s.region(), "garage");
    assert!(!s.conditional_writes());
    let s = build(&[BUCKET, ("provider", "garage"), ("conditional_writes", "true")], &[]).unwrap();
    assert!(s.conditional_writes());
    let s = build(
        &[
            BUCKET,
            ("provider", "minio"),
            ("request_checksum_calculation", "when_supported"),
        ],
        &[],
    )
    .unwrap();
    assert_eq!(s.upload_checksum(), Some(ChecksumAlgorithm::Crc64Nvme));
    assert_eq!(s.region(), "us-east-1");
    // `auto` is not an AWS region: without an endpoint there is nowhere to send requests.
    let e = build(&[BUCKET, ("provider", "r2")], &[]).unwrap_err();
    assert_eq!(e.setting(), Some("region_name"));
}

#[test]
fn endpoint_and_region_are_validated() {
    let e = build(&[BUCKET, ("endpoint_url", "localhost:9000")], &[]).unwrap_err();
    assert_eq!(e.setting(), Some("endpoint_url"));
    let e = build(&[BUCKET, ("region_name", "EU West")], &[]).unwrap_err();
    assert_eq!(e.setting(), Some("region_name"));
    let s = build(&[BUCKET], &[("AWS_DEFAULT_REGION", "eu-west-3")]).unwrap();
    assert_eq!(s.region(), "eu-west-3");
    let s = build(
        &[BUCKET],
        &[
            ("AWS_DEFAULT_REGION", "eu-west-3"),
            ("AWS_S3_REGION_NAME", "eu-central-1"),
        ],
    )
    .unwrap();
    assert_eq!(s.region(), "eu-central-1");
}

#[test]
fn verify_bundle_must_exist_and_buffer_size_respects_s3_minimum() {
    let e = build(&[BUCKET, ("verify", "/nonexistent/ca.pem")], &[]).unwrap_err();
    assert_eq!(e.setting(), Some("verify"));
    let e = build(&[BUCKET], &[("AWS_S3_FILE_BUFFER_SIZE", "1024")]).unwrap_err();
    assert_eq!(e.setting(), Some("file_buffer_size"));
    let e = build(&[BUCKET, ("max_attempts", "0")], &[]).unwrap_err();
    assert_eq!(e.setting(), Some("max_attempts"));
}

/// A shared config file with these contents, and globals pointing at it.
fn config_file(text: &str) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config");
    std::fs::write(&path, text).unwrap();
    (dir, path.to_str().unwrap().to_owned())
}

#[test]
fn the_shared_config_file_comes_after_the_environment() {
    let bundle = tempfile::NamedTempFile::new().unwrap();
    let (_dir, file) = config_file(&format!(
        "[default]\nregion = eu-west-3\nmax_attempts = 7\nretry_mode = legacy\nca_bundle = {}\n\
         endpoint_url = http://profile:1\ns3 =\n  addressing_style = path\n\
         [profile other]\nregion = ap-south-1\nservices = mine\nendpoint_url = http://profile:1\n\
         [services mine]\ns3 =\n  endpoint_url = http://service:2\n\
         [profile quiet]\nendpoint_url = http://profile:1\nignore_configured_endpoint_urls = true\n",
        bundle.path().display()
    ));
    let with = |extra: &[(&'static str, &'static str)]| -> Vec<(&str, &str)> {
        let mut g = vec![("AWS_CONFIG_FILE", file.as_str())];
        g.extend_from_slice(extra);
        g
    };
    let s = build(&[BUCKET], &with(&[])).unwrap();
    assert_eq!(s.region_name.as_deref(), Some("eu-west-3"));
    assert_eq!((s.max_attempts(), s.retry_mode()), (7, RetryMode::Legacy));
    assert_eq!(s.verify, Verify::CaBundle(bundle.path().into()));
    assert_eq!(
        s.endpoint_url.as_ref().map(|e| e.to_string()).as_deref(),
        Some("http://profile:1")
    );
    assert_eq!(s.addressing_style(), AddressingStyle::Path);
    // The environment, the storage's globals and its options come first.
    let s = build(
        &[BUCKET, ("addressing_style", "virtual")],
        &with(&[
            ("AWS_REGION", "us-west-2"),
            ("AWS_MAX_ATTEMPTS", "2"),
            ("AWS_ENDPOINT_URL", "http://env:3"),
        ]),
    )
    .unwrap();
    assert_eq!(s.region_name.as_deref(), Some("us-west-2"));
    assert_eq!(s.max_attempts(), 2);
    assert_eq!(
        s.endpoint_url.as_ref().map(|e| e.to_string()).as_deref(),
        Some("http://env:3")
    );
    assert_eq!(s.addressing_style(), AddressingStyle::Virtual);
    // client_config's s3 section merges over the file's: keys it does not give come from the file.
    let s = build(&[BUCKET, ("client_config", r#"{"connect_timeout": 2}"#)], &with(&[])).unwrap();
    assert_eq!(s.addressing_style(), AddressingStyle::Path);
    // The profile: AWS_PROFILE, session_profile over it; the services section's endpoint
    // over the profile's.
    let s = build(&[BUCKET], &with(&[("AWS_PROFILE", "other")])).unwrap();
    assert_eq!(s.region_name.as_deref(), Some("ap-south-1"));
    assert_eq!(
        s.endpoint_url.as_ref().map(|e| e.to_string()).as_deref(),
        Some("http://service:2")
    );
    let s = build(
        &[BUCKET, ("session_profile", "other")],
        &with(&[("AWS_PROFILE", "nope")]),
    )
    .unwrap();
    assert_eq!(s.region_name.as_deref(), Some("ap-south-1"));
    // A profile the file lacks gives nothing.
    let s = build(&[BUCKET], &with(&[("AWS_PROFILE", "nope")])).unwrap();
    assert_eq!((s.region_name, s.endpoint_url), (None, None));
    // ignore_configured_endpoint_urls in the profile drops the file's and the environment's
    // endpoints; the variable, when set, decides over it.
    let s = build(
        &[BUCKET],
        &with(&[("AWS_PROFILE", "quiet"), ("AWS_ENDPOINT_URL", "http://env:3")]),
    )
    .unwrap();
    assert_eq!(s.endpoint_url, None);
    let s = build(
        &[BUCKET],
        &with(&[
            ("AWS_PROFILE", "quiet"),
            ("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "false"),
        ]),
    )
    .unwrap();
    assert_eq!(
        s.endpoint_url.as_ref().map(|e| e.to_string()).as_deref(),
        Some("http://profile:1")
    );
    let s = build(
        &[BUCKET],
        &with(&[
            ("AWS_PROFILE", "other"),
            ("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true"),
        ]),
    )
    .unwrap();
    assert_eq!(s.endpoint_url, None);
    // Without globals, no file is read.
    let s = Settings::builder()
        .option("bucket_name", "b-1")
        .no_globals()
        .build()
        .unwrap();
    assert_eq!(s.region_name, None);
}

#[test]
fn shared_config_file_errors_name_the_file() {
    let (_dir, file) = config_file("[default]\nmax_attempts = many\n");
    let e = build(&[BUCKET], &[("AWS_CONFIG_FILE", &file)]).unwrap_err();
    assert_eq!(e.setting(), Some("max_attempts"));
    assert!(
        e.to_string()
            .contains(&format!("from max_attempts of profile `default` of {file}")),
        "{e}"
    );
    let (_dir, file) = config_file("[default]\nregion = eu-west-3\nthis line is no setting\n");
    let e = build(&[BUCKET], &[("AWS_CONFIG_FILE", &file)]).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidSetting);
    assert!(e.to_string().contains(&format!("{file}, line 3")), "{e}");
    assert!(!e.to_string().contains("this line"), "{e}");
}

#[test]
fn accelerate_and_dualstack_from_client_config_or_the_file() {
    let (_dir, file) =
        config_file("[default]\ns3 =\n  use_accelerate_endpoint = true\n  use_dualstack_endpoint = true\n");
    let s = build(&[BUCKET], &[("AWS_CONFIG_FILE", &file)]).unwrap();
    assert!(s.use_accelerate_endpoint() && s.use_dualstack_endpoint());
    let cc = r#"{"s3": {"use_accelerate_endpoint": false}}"#;
    let s = build(&[BUCKET, ("client_config", cc)], &[("AWS_CONFIG_FILE", &file)]).unwrap();
    assert!(!s.use_accelerate_endpoint() && s.use_dualstack_endpoint());
    let s = build(&[BUCKET], &[]).unwrap();
    assert!(!s.use_accelerate_endpoint() && !s.use_dualstack_endpoint());
    // Refused where botocore refuses them: with a custom endpoint, accelerate in path style
    // or with a bucket that cannot be a host name.
    let accelerate = r#"{"s3": {"use_accelerate_endpoint": true}}"#;
    let dualstack = r#"{"s3": {"use_dualstack_endpoint": true}}"#;
    for (options, why) in [
        (
            vec![BUCKET, ("client_config", accelerate), ("endpoint_url", "http://x:1")],
            "custom endpoint",
        ),
        (
            vec![BUCKET, ("client_config", dualstack), ("endpoint_url", "http://x:1")],
            "custom endpoint",
        ),
        (
            vec![
                BUCKET,
                (
                    "client_config",
                    r#"{"s3": {"use_accelerate_endpoint": true, "addressing_style": "path"}}"#,
                ),
            ],
            "path style",
        ),
        (
            vec![("bucket_name", "dotted.name"), ("client_config", accelerate)],
            "DNS label without dots",
        ),
    ] {
        let e = build(&options, &[]).unwrap_err();
        assert_eq!(e.setting(), Some("client_config"), "{e}");
        assert!(e.to_string().contains(why), "{e}");
    }
    let e = build(
        &[BUCKET],
        &[("AWS_CONFIG_FILE", &file), ("AWS_ENDPOINT_URL", "http://x:1")],
    )
    .unwrap_err();
    assert!(e.to_string().contains("custom endpoint"), "{e}");
}

#[test]
fn botocore_environment_comes_after_the_storages_own_globals() {
    let endpoint = |g: &[(&str, &str)]| build(&[BUCKET], g).unwrap().endpoint_url.map(|e| e.to_string());
    // AWS_ENDPOINT_URL_S3, then AWS_ENDPOINT_URL, as botocore reads them.
    assert_eq!(
        endpoint(&[
            ("AWS_ENDPOINT_URL", "http://all:1"),
            ("AWS_ENDPOINT_URL_S3", "http://s3:2")
        ])
        .as_deref(),
        Some("http://s3:2")
    );
    assert_eq!(
        endpoint(&[("AWS_ENDPOINT_URL", "http://all:1")]).as_deref(),
        Some("http://all:1")
    );
    // The storage's own global and option come first.
    assert_eq!(
        endpoint(&[
            ("AWS_S3_ENDPOINT_URL", "http://django:3"),
            ("AWS_ENDPOINT_URL_S3", "http://s3:2")
        ])
        .as_deref(),
        Some("http://django:3")
    );
    let option = build(
        &[BUCKET, ("endpoint_url", "http://option:4")],
        &[("AWS_ENDPOINT_URL_S3", "http://s3:2")],
    )
    .unwrap();
    assert_eq!(
        option.endpoint_url.map(|e| e.to_string()).as_deref(),
        Some("http://option:4")
    );
    // AWS_IGNORE_CONFIGURED_ENDPOINT_URLS turns botocore's variables off, not the storage's.
    let ignored = [
        ("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true"),
        ("AWS_ENDPOINT_URL_S3", "http://s3:2"),
    ];
    assert_eq!(endpoint(&ignored), None);
    let kept = [
        ("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true"),
        ("AWS_S3_ENDPOINT_URL", "http://django:3"),
    ];
    assert_eq!(endpoint(&kept).as_deref(), Some("http://django:3"));
    // AWS_CA_BUNDLE is the verify bundle unless AWS_S3_VERIFY says otherwise.
    let bundle = tempfile::NamedTempFile::new().unwrap();
    let path = bundle.path().to_str().unwrap();
    let verify = |g: &[(&str, &str)]| build(&[BUCKET], g).unwrap().verify;
    assert_eq!(verify(&[("AWS_CA_BUNDLE", path)]), Verify::CaBundle(path.into()));
    assert_eq!(
        verify(&[("AWS_CA_BUNDLE", path), ("AWS_S3_VERIFY", "false")]),
        Verify::Off
    );
}

#[test]
fn payload_signing_from_the_setting_client_config_or_the_file() {
    let policy = |options: &[(&str, &str)], g: &[(&str, &str)]| build(options, g).unwrap().payload_signing();
    assert_eq!(policy(&[BUCKET], &[]), PayloadSigning::Auto);
    assert_eq!(
        policy(&[BUCKET, ("payload_signing", "never")], &[]),
        PayloadSigning::Never
    );
    assert_eq!(
        policy(&[BUCKET], &[("AWS_S3_PAYLOAD_SIGNING", "always")]),
        PayloadSigning::Always
    );
    let enabled = r#"{"s3": {"payload_signing_enabled": true}}"#;
    let disabled = r#"{"s3": {"payload_signing_enabled": false}}"#;
    assert_eq!(
        policy(&[BUCKET, ("client_config", enabled)], &[]),
        PayloadSigning::Always
    );
    // botocore's `false` leaves bodies over HTTPS unsigned and still signs over HTTP: `auto`.
    assert_eq!(
        policy(&[BUCKET, ("client_config", disabled)], &[]),
        PayloadSigning::Auto
    );
    // client_config wins, as for every setting it shares a key with.
    assert_eq!(
        policy(&[BUCKET, ("client_config", enabled), ("payload_signing", "never")], &[]),
        PayloadSigning::Always
    );
    // One meaning for a word: `false` is botocore's (`auto`: signed over plain HTTP),
    // `never` only when spelled out.
    assert_eq!(
        policy(&[BUCKET, ("payload_signing", "false")], &[]),
        PayloadSigning::Auto
    );
    assert_eq!(
        policy(&[BUCKET], &[("AWS_S3_PAYLOAD_SIGNING", "false")]),
        PayloadSigning::Auto
    );
    assert_eq!(
        policy(&[BUCKET, ("payload_signing", "true")], &[]),
        PayloadSigning::Always
    );
    let (_dir, file) = config_file("[default]\ns3 =\n  payload_signing_enabled = true\n");
    assert_eq!(policy(&[BUCKET], &[("AWS_CONFIG_FILE", &file)]), PayloadSigning::Always);
    let e = build(&[BUCKET, ("payload_signing", "sometimes")], &[]).unwrap_err();
    assert_eq!(e.setting(), Some("payload_signing"));
}

#[test]
fn upload_checksums_follow_the_policy_the_preset_and_the_signature() {
    let checksum =
        |options: &[(&str, &str)], globals: &[(&str, &str)]| build(options, globals).unwrap().upload_checksum();
    let crc64 = Some(ChecksumAlgorithm::Crc64Nvme);
    // AWS itself, and every preset: the service stores CRC64NVME.
    assert_eq!(checksum(&[BUCKET], &[]), crc64);
    for provider in ["minio", "rustfs", "garage", "r2"] {
        let o = [
            BUCKET,
            ("endpoint_url", "https://s.example.com"),
            ("provider", provider),
        ];
        assert_eq!(checksum(&o, &[]), crc64, "{provider}");
    }
    // A service nothing is known of: none, unless asked for.
    let other = [BUCKET, ("endpoint_url", "https://s3.example.com")];
    assert_eq!(checksum(&other, &[]), None);
    let asked = [
        BUCKET,
        ("endpoint_url", "https://s3.example.com"),
        ("request_checksum_calculation", "when_supported"),
    ];
    assert_eq!(checksum(&asked, &[]), crc64);
    assert_eq!(
        checksum(&other, &[("AWS_REQUEST_CHECKSUM_CALCULATION", "when_supported")]),
        crc64
    );
    // when_required sends none, from the setting or client_config (which wins).
    assert_eq!(
        checksum(&[BUCKET, ("request_checksum_calculation", "when_required")], &[]),
        None
    );
    let cc = r#"{"request_checksum_calculation": "when_required"}"#;
    assert_eq!(
        checksum(
            &[
                BUCKET,
                ("request_checksum_calculation", "when_supported"),
                ("client_config", cc)
            ],
            &[]
        ),
        None
    );
    // Flexible checksums go with SigV4 only.
    assert_eq!(checksum(&[BUCKET, ("signature_version", "s3")], &[]), None);
    assert_eq!(checksum(&[BUCKET, ("signature_version", "unsigned")], &[]), None);
    // Reads: checked unless when_required.
    let validation = |options: &[(&str, &str)]| build(options, &[]).unwrap().response_checksum_validation();
    assert_eq!(validation(&[BUCKET]), ChecksumPolicy::WhenSupported);
    assert_eq!(
        validation(&[BUCKET, ("response_checksum_validation", "when_required")]),
        ChecksumPolicy::WhenRequired
    );
    let cc = r#"{"response_checksum_validation": "when_required"}"#;
    assert_eq!(
        validation(&[BUCKET, ("client_config", cc)]),
        ChecksumPolicy::WhenRequired
    );
    // The object parameter names an algorithm, or is refused.
    let p: crate::config::ObjectParameters = r#"{"ChecksumAlgorithm": "sha256"}"#.parse().unwrap();
    assert_eq!(p.checksum_algorithm(), Some(ChecksumAlgorithm::Sha256));
    assert!(r#"{"ChecksumAlgorithm": "md5"}"#.parse::<crate::config::ObjectParameters>().is_err());
}
