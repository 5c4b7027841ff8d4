//! Every credential document parser on the same bytes (instance metadata, container agent,
//! `credential_process` output, STS AssumeRole and AssumeRoleWithWebIdentity replies): none
//! panics, whatever the dates (years 0 to 9999, any offset) or nesting; credentials they
//! accept have a key and a secret; an expiry is kept exactly when the document gave one
//! (STS always gives one); `Debug` of what they return never shows the secret or the token.
#![no_main]

use libfuzzer_sys::fuzz_target;
use storages_s3::{credentials::Credentials, fuzzing::parse};

fn check(name: &str, result: storages_s3::Result<Credentials>, expiry_required: bool) {
    let Ok(c) = result else { return };
    assert!(!c.access_key().is_empty(), "{name}: an empty access key");
    let secret = c.secret_key().expose().to_owned();
    assert!(!secret.is_empty(), "{name}: an empty secret");
    if expiry_required {
        assert!(c.expiry().is_some(), "{name}: STS credentials without an expiry");
    }
    // Distinctive secrets only: a short one may occur in the rest of the Debug text.
    let debug = format!("{c:?}");
    let mut hidden = vec![secret];
    hidden.extend(c.session_token().map(|t| t.expose().to_owned()));
    for h in hidden {
        if h.len() >= 12 && !c.access_key().contains(&h) {
            assert!(!debug.contains(&h), "{name}: Debug shows a secret: {debug}");
        }
    }
}

fuzz_target!(|data: &[u8]| {
    check("instance metadata", parse::instance_metadata(data), false);
    let _ = parse::instance_metadata_role(data);
    check("container", parse::container(data), false);
    check("credential_process", parse::credential_process(data), false);
    check("AssumeRole", parse::sts_assume_role(data), true);
    check("AssumeRoleWithWebIdentity", parse::sts_web_identity(data), true);
});
