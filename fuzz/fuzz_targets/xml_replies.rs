//! Every reply parser on the same bytes: none panics, each keeps its documented guarantees
//! (non-empty `UploadId`, non-empty error codes, no empty markers), and they agree with each
//! other on `<Error>` documents: `parse_error` says `Some(body)` exactly when the parsers that
//! return error bodies return that same body and the others return a service error (status
//! 200) carrying it; when `parse_error` fails, every parser fails.
#![no_main]

use libfuzzer_sys::fuzz_target;
use storages_s3::Error;
use storages_s3::fuzzing::service_error;
use storages_s3::fuzzing::xml::{
    ErrorBody, parse_complete_multipart, parse_copy_object, parse_delete_objects, parse_error,
    parse_initiate_multipart, parse_list_multipart_uploads, parse_list_objects,
};

/// A service error made from an `<Error>` document inside a 200 reply.
fn assert_carries(e: &Error, body: &ErrorBody, parser: &str) {
    let s = service_error(e).unwrap_or_else(|| panic!("{parser}: an <Error> document gave a non-service error: {e:?}"));
    assert_eq!(s.status, 200, "{parser}");
    assert_eq!(s.code, body.code, "{parser}");
    assert_eq!(s.message, body.message, "{parser}");
    assert_eq!(s.request_id, body.request_id, "{parser}");
    assert_eq!(s.bucket_region, body.region, "{parser}");
    assert_eq!(e.code(), Some(body.code.as_str()), "{parser}");
    assert_eq!(e.status(), Some(200), "{parser}");
}

fn assert_body(b: &ErrorBody) {
    assert!(!b.code.is_empty(), "an error body with an empty code: {b:?}");
}

fuzz_target!(|data: &[u8]| {
    let error = parse_error(data);
    let complete = parse_complete_multipart(data);
    let copy = parse_copy_object(data);
    let initiate = parse_initiate_multipart(data);
    let delete = parse_delete_objects(data);
    let uploads = parse_list_multipart_uploads(data);
    let list = parse_list_objects(data);

    // Formatting any result must not panic.
    let _ = format!("{error:?}{complete:?}{copy:?}{initiate:?}{delete:?}{uploads:?}{list:?}");
    for e in [
        error.as_ref().err(),
        complete.as_ref().err(),
        copy.as_ref().err(),
        initiate.as_ref().err(),
        delete.as_ref().err(),
        uploads.as_ref().err(),
        list.as_ref().err(),
    ]
    .into_iter()
    .flatten()
    {
        let _ = e.to_string();
    }

    // Each parser's own guarantees.
    if let Ok(i) = &initiate {
        assert!(!i.upload_id.is_empty(), "empty UploadId: {i:?}");
    }
    if let Ok(d) = &delete {
        for err in &d.errors {
            assert!(!err.code.is_empty(), "DeleteResult error with an empty code: {err:?}");
        }
    }
    if let Ok(u) = &uploads {
        assert_ne!(u.next_key_marker.as_deref(), Some(""));
        assert_ne!(u.next_upload_id_marker.as_deref(), Some(""));
    }
    if let Ok(l) = &list {
        assert_ne!(l.next_continuation_token.as_deref(), Some(""));
        assert_ne!(l.next_marker.as_deref(), Some(""));
    }

    // The parsers agree on <Error> documents.
    match &error {
        Ok(Some(body)) => {
            assert_body(body);
            assert_eq!(
                complete.as_ref().ok(),
                Some(&Err(body.clone())),
                "complete vs parse_error"
            );
            assert_eq!(copy.as_ref().ok(), Some(&Err(body.clone())), "copy vs parse_error");
            assert_carries(initiate.as_ref().expect_err("initiate on <Error>"), body, "initiate");
            assert_carries(delete.as_ref().expect_err("delete on <Error>"), body, "delete");
            assert_carries(uploads.as_ref().expect_err("uploads on <Error>"), body, "uploads");
            assert_carries(list.as_ref().expect_err("list on <Error>"), body, "list");
        }
        Ok(None) => {
            // Not an <Error> document: nobody reports an error body or a service error.
            assert!(
                !matches!(complete, Ok(Err(_))),
                "complete found an error body: {complete:?}"
            );
            assert!(!matches!(copy, Ok(Err(_))), "copy found an error body: {copy:?}");
            for (name, e) in [
                ("complete", complete.as_ref().err()),
                ("copy", copy.as_ref().err()),
                ("initiate", initiate.as_ref().err()),
                ("delete", delete.as_ref().err()),
                ("uploads", uploads.as_ref().err()),
                ("list", list.as_ref().err()),
            ] {
                if let Some(e) = e {
                    assert!(
                        service_error(e).is_none(),
                        "{name}: service error without <Error>: {e:?}"
                    );
                }
            }
        }
        Err(_) => {
            assert!(
                complete.is_err(),
                "complete accepted what parse_error refused: {complete:?}"
            );
            assert!(copy.is_err(), "copy accepted what parse_error refused: {copy:?}");
            assert!(
                initiate.is_err(),
                "initiate accepted what parse_error refused: {initiate:?}"
            );
            assert!(delete.is_err(), "delete accepted what parse_error refused: {delete:?}");
            assert!(
                uploads.is_err(),
                "uploads accepted what parse_error refused: {uploads:?}"
            );
            assert!(list.is_err(), "list accepted what parse_error refused: {list:?}");
        }
    }
    if let Ok(Err(b)) = &complete {
        assert_body(b);
    }
    if let Ok(Err(b)) = &copy {
        assert_body(b);
    }
});
