//! XML references as the crate's reply readers expand them: the five predefined entities and
//! character references, nothing else. Floor-neutral: the S3 replies (`s3::xml`) and the STS
//! replies (`credentials::sts`) both read XML.

use quick_xml::events::BytesRef;

/// Expands `&name;`: the five predefined entities and character references; nothing else
/// (no DOCTYPE entity is ever expanded). The error says which; callers add their context.
pub(crate) fn expand_reference(reference: &BytesRef<'_>) -> std::result::Result<char, &'static str> {
    if reference.is_char_ref() {
        return match reference.resolve_char_ref() {
            Ok(Some(c)) => Ok(c),
            _ => Err("invalid character reference"),
        };
    }
    match &**reference {
        b"amp" => Ok('&'),
        b"lt" => Ok('<'),
        b"gt" => Ok('>'),
        b"quot" => Ok('"'),
        b"apos" => Ok('\''),
        _ => Err("unknown entity reference"),
    }
}
