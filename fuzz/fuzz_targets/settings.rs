//! Settings from `name=value` lines (UTF-8, lossy; a line without `=` is a name with an empty
//! value), with no global settings.
//!
//! - `build()` never panics;
//! - secrets never leak: the `Display` and `Debug` of the error, or the `Debug` of the
//!   settings, never contain the value of a `secret_key` or `security_token` line (of 4
//!   characters or more) unless they would contain it anyway; checked by building again with
//!   every secret replaced by a sentinel of the same emptiness: the output must be identical;
//! - settings that built validate again, unchanged;
//! - every value parsed as `ObjectParameters`, `ClientConfig`, `TransferConfig` and
//!   `Endpoint` never panics; an `Endpoint` that parses prints as a URL that parses back to
//!   the same endpoint; an `ObjectParameters`' `Debug` never shows its `SSECustomerKey`.
#![no_main]

use std::net::Ipv6Addr;

use libfuzzer_sys::fuzz_target;
use storages_s3::Settings;
use storages_s3::config::ObjectParameters;
use storages_s3::fuzzing::config::{ClientConfig, Endpoint, TransferConfig, validate};

const SECRET_OPTIONS: [&str; 2] = ["secret_key", "security_token"];
const SENTINEL: &str = "SENTINEL-\u{1F511}-VALUE";

fn render(pairs: &[(&str, &str)]) -> (bool, String) {
    match Settings::builder().no_globals().options(pairs.iter().copied()).build() {
        Ok(mut settings) => {
            let shown = format!("{settings:?}");
            validate(&mut settings).unwrap_or_else(|e| panic!("built settings fail validate(): {e:?}"));
            assert_eq!(format!("{settings:?}"), shown, "validate() changed built settings");
            (true, shown)
        }
        Err(e) => (false, format!("{e}\n{e:?}")),
    }
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let pairs: Vec<(&str, &str)> = text
        .split('\n')
        .filter(|l| !l.is_empty())
        .map(|l| l.split_once('=').unwrap_or((l, "")))
        .collect();

    let (ok, shown) = render(&pairs);

    // The same options with every secret replaced; an all-blank value means "unset", so it
    // stays as it is.
    let masked: Vec<(&str, &str)> = pairs
        .iter()
        .map(|&(n, v)| {
            if SECRET_OPTIONS.contains(&n) && !v.trim().is_empty() {
                (n, SENTINEL)
            } else {
                (n, v)
            }
        })
        .collect();
    let (masked_ok, masked_shown) = render(&masked);
    for &(n, v) in &pairs {
        if SECRET_OPTIONS.contains(&n) && v.chars().count() >= 4 {
            assert!(
                !shown.contains(v) || masked_shown.contains(v),
                "the {n} value {v:?} leaks into {shown:?}"
            );
        }
    }
    assert!(
        !shown.contains(SENTINEL) && !masked_shown.contains(SENTINEL) || text.contains(SENTINEL),
        "the sentinel secret leaks"
    );
    assert_eq!(ok, masked_ok, "the outcome depends on a secret's value");
    assert_eq!(shown, masked_shown, "the output depends on a secret's value");

    // Structured values on their own.
    for &(_, v) in &pairs {
        if let Ok(p) = v.parse::<ObjectParameters>() {
            let shown = format!("{p:?}");
            if let Some(key) = p.get("SSECustomerKey") {
                let mut masked = p.clone();
                masked.set("SSECustomerKey", SENTINEL).expect("a known parameter");
                assert_eq!(format!("{masked:?}"), shown, "SSECustomerKey {key:?} shows in {shown}");
            }
        }
        if let Ok(c) = v.parse::<ClientConfig>() {
            let _ = format!("{c:?}");
        }
        if let Ok(t) = v.parse::<TransferConfig>() {
            let _ = format!("{t:?}");
        }
        if let Ok(e) = v.parse::<Endpoint>() {
            let url = e.to_string();
            // Regression: fuzz/regressions/settings/endpoint-host-with-colon (`http://a:1:1` was
            // host `a:1`, printed `http://[a:1]:1`; fixed in 26e7a74).
            assert_eq!(
                url.parse::<Endpoint>().as_ref(),
                Ok(&e),
                "{v:?} parsed to {e:?}, printed as {url:?}"
            );
            if e.host.contains(':') {
                assert!(
                    e.host.parse::<Ipv6Addr>().is_ok(),
                    "a host with `:` that is not IPv6: {e:?}"
                );
            }
            assert!(
                e.path.is_empty() || (e.path.starts_with('/') && !e.path.ends_with('/')),
                "{e:?}"
            );
        }
    }
});
