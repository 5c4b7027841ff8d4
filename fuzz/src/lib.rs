//! Oracles shared by the fuzz targets, written independently of the crate's own code: an XML
//! reader on quick-xml, an XML text escaper, the XML 1.0 `Char` production and percent
//! encoding/decoding.

use quick_xml::Reader;
use quick_xml::events::Event;

/// Reads a whole document with quick-xml, calling `visit(path, text)` at the end of every
/// element, where `path` holds the local names from the root down to it and `text` is its text
/// (entities and character references expanded, line ends normalised as XML 1.0 says). Returns
/// the root's local name; any malformation is an `Err`.
///
/// Nothing is allocated per element (names are borrowed from `xml`, text buffers are reused):
/// under ASan, allocations dominate the cost of a run.
pub fn walk<'a>(xml: &'a str, mut visit: impl FnMut(&[&'a str], &str)) -> Result<&'a str, String> {
    let mut reader = Reader::from_str(xml);
    reader.config_mut().check_end_names = true;
    let mut path: Vec<&'a str> = Vec::with_capacity(8);
    // One text buffer per open element, kept (cleared) when the element ends.
    let mut texts: Vec<String> = Vec::with_capacity(8);
    let mut root = None;
    // The name of a start tag, as a slice of `xml` (the events of a `&str` reader borrow it).
    let name_in = |name: &[u8]| -> Result<&'a str, String> {
        let start = (name.as_ptr() as usize)
            .checked_sub(xml.as_ptr() as usize)
            .filter(|s| s + name.len() <= xml.len())
            .ok_or("a tag name outside the document")?;
        xml.get(start..start + name.len())
            .ok_or_else(|| "a tag name that is not UTF-8".into())
    };
    loop {
        let event = reader
            .read_event()
            .map_err(|e| format!("quick-xml: {e} at {}", reader.error_position()))?;
        match event {
            Event::Start(ref tag) | Event::Empty(ref tag) => {
                if path.is_empty() && root.is_some() {
                    return Err("a second root element".into());
                }
                let name = name_in(tag.local_name().into_inner())?;
                root.get_or_insert(name);
                path.push(name);
                if matches!(event, Event::Empty(_)) {
                    visit(&path, "");
                    path.pop();
                } else {
                    if texts.len() < path.len() {
                        texts.resize_with(path.len(), String::new);
                    }
                    texts[path.len() - 1].clear();
                }
            }
            Event::End(_) => {
                let depth = path.len();
                if depth == 0 {
                    return Err("end tag without start".into());
                }
                visit(&path, &texts[depth - 1]);
                path.pop();
            }
            Event::Text(t) => {
                let s = t.xml10_content().map_err(|e| e.to_string())?;
                match path.len() {
                    0 if s.chars().all(|c| matches!(c, ' ' | '\t' | '\r' | '\n')) => {}
                    0 => return Err("text outside the root".into()),
                    depth => texts[depth - 1].push_str(&s),
                }
            }
            Event::CData(t) => {
                let s = t.xml10_content().map_err(|e| e.to_string())?;
                match path.len() {
                    0 => return Err("CDATA outside the root".into()),
                    depth => texts[depth - 1].push_str(&s),
                }
            }
            Event::GeneralRef(r) => {
                let c = if r.is_char_ref() {
                    r.resolve_char_ref()
                        .map_err(|e| e.to_string())?
                        .ok_or("bad character reference")?
                } else {
                    match r.as_ref() {
                        b"amp" => '&',
                        b"lt" => '<',
                        b"gt" => '>',
                        b"quot" => '"',
                        b"apos" => '\'',
                        other => return Err(format!("unknown entity {other:?}")),
                    }
                };
                match path.len() {
                    0 => return Err("reference outside the root".into()),
                    depth => texts[depth - 1].push(c),
                }
            }
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) | Event::DocType(_) => {}
            Event::Eof => {
                if !path.is_empty() {
                    return Err("document ends inside an element".into());
                }
                return root.ok_or_else(|| "no root element".into());
            }
        }
    }
}

/// Checks a DeleteObjects body: root `Delete`, `<Quiet>true</Quiet>` exactly when `quiet`,
/// one `Object` per key, each with exactly one `Key` whose text is that key. Panics otherwise.
pub fn assert_delete_body(body: &str, keys: &[&str], quiet: bool) {
    let (mut next, mut in_object, mut objects, mut quiets) = (0usize, 0usize, 0usize, 0usize);
    let root = walk(body, |path, text| match path {
        ["Delete", "Object", "Key"] => {
            assert!(next < keys.len(), "more keys than given in {body:?}");
            assert_eq!(text, keys[next], "key {next} of {body:?}");
            next += 1;
            in_object += 1;
        }
        ["Delete", "Object"] => {
            assert_eq!(in_object, 1, "an Object without exactly one Key in {body:?}");
            in_object = 0;
            objects += 1;
        }
        ["Delete", "Quiet"] => {
            assert_eq!(text, "true");
            quiets += 1;
        }
        ["Delete"] => {}
        other => panic!("unexpected element {other:?} in {body:?}"),
    })
    .unwrap_or_else(|e| panic!("write_delete wrote bad XML ({e}): {body:?}"));
    assert_eq!(root, "Delete");
    assert_eq!(next, keys.len(), "keys missing from {body:?}");
    assert_eq!(objects, keys.len());
    assert_eq!(quiets, usize::from(quiet), "Quiet in {body:?}");
}

/// XML 1.0's `Char` production: what a document may carry, escaped or not.
pub fn is_xml10_char(c: char) -> bool {
    matches!(c as u32, 0x9 | 0xA | 0xD | 0x20..=0xD7FF | 0xE000..=0xFFFD | 0x10000..=0x10FFFF)
}

/// Escapes element content: `&`, `<`, `>`, and `\r` as a character reference so that it
/// survives end-of-line normalisation.
pub fn escape_text(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\r' => out.push_str("&#13;"),
            c => out.push(c),
        }
    }
}

/// RFC 3986 unreserved characters.
pub fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~')
}

/// Percent-encodes every byte but unreserved ones; a space is `+` when `plus` (as AWS writes
/// `encoding-type=url` replies), else `%20`.
pub fn url_encode(s: &str, plus: bool) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for &b in s.as_bytes() {
        if is_unreserved(b) {
            out.push(b as char);
        } else if b == b' ' && plus {
            out.push('+');
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Decodes `%XX` escapes (upper or lower case hex); `None` on a malformed escape.
pub fn percent_decode(s: &str) -> Option<Vec<u8>> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3)?;
            let hex = std::str::from_utf8(hex).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    Some(out)
}

/// Checks that `encoded` is `raw` percent-encoded by S3's rule: every byte escaped except
/// unreserved characters and the bytes in `kept`, escapes in upper-case hex, nothing escaped
/// that need not be. Panics with a description otherwise.
pub fn assert_canonical_encoding(raw: &str, encoded: &str, kept: &[u8]) {
    let e = encoded.as_bytes();
    let mut decoded = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < e.len() {
        let b = e[i];
        if b == b'%' {
            let hex = e
                .get(i + 1..i + 3)
                .unwrap_or_else(|| panic!("truncated escape in {encoded:?}"));
            assert!(
                hex.iter().all(|h| h.is_ascii_digit() || (b'A'..=b'F').contains(h)),
                "escape not in upper-case hex in {encoded:?}"
            );
            let byte = u8::from_str_radix(std::str::from_utf8(hex).unwrap(), 16).unwrap();
            assert!(
                !is_unreserved(byte) && !kept.contains(&byte),
                "byte {byte:#04x} escaped needlessly in {encoded:?}"
            );
            decoded.push(byte);
            i += 3;
        } else {
            assert!(
                is_unreserved(b) || kept.contains(&b),
                "byte {b:#04x} left unescaped in {encoded:?}"
            );
            decoded.push(b);
            i += 1;
        }
    }
    assert_eq!(decoded, raw.as_bytes(), "{encoded:?} does not decode to {raw:?}");
}
