//! The content type of a name, guessed from its extension.
//!
//! The original asks Python's `mimetypes`, whose answers depend on the host's `mime.types`.
//! Here the answers the original gave on a reference host come first (one table, below),
//! then `mime_guess`, then `application/octet-stream`.
//!
//! No `Content-Encoding` is ever derived from an extension: the original sends
//! `Content-Encoding: gzip` for `.gz` and `.tgz` uploads, so that HTTP clients silently
//! decompress archives (django-storages #451). Compressed archives get their own type
//! (`application/gzip`, ...) instead. The one exception is `.svgz`, which is by definition
//! SVG meant to be served gzip-encoded: with `image/svg+xml` and no encoding, or with
//! `application/gzip`, no browser could show it.

/// The original's answers, by lower-case extension.
const TABLE: &[(&str, &str)] = &[
    ("avif", "image/avif"),
    ("bin", "application/octet-stream"),
    ("br", "application/octet-stream"),
    ("bz2", "application/x-bzip2"),
    ("css", "text/css"),
    ("csv", "text/csv"),
    ("eot", "application/vnd.ms-fontobject"),
    ("gif", "image/gif"),
    ("gz", "application/gzip"),
    ("htm", "text/html"),
    ("html", "text/html"),
    ("ico", "image/vnd.microsoft.icon"),
    ("jpeg", "image/jpeg"),
    ("jpg", "image/jpeg"),
    ("js", "text/javascript"),
    ("json", "application/json"),
    ("map", "application/octet-stream"),
    ("md", "text/markdown"),
    ("mjs", "text/javascript"),
    ("mp3", "audio/mpeg"),
    ("mp4", "video/mp4"),
    ("otf", "font/otf"),
    ("pdf", "application/pdf"),
    ("png", "image/png"),
    ("svg", "image/svg+xml"),
    ("svgz", "image/svg+xml"),
    ("tar", "application/x-tar"),
    ("tgz", "application/gzip"),
    ("ttf", "font/ttf"),
    ("txt", "text/plain"),
    ("wasm", "application/wasm"),
    ("webm", "video/webm"),
    ("webp", "image/webp"),
    ("woff", "font/woff"),
    ("woff2", "font/woff2"),
    ("xml", "application/xml"),
    ("xz", "application/x-xz"),
    ("z", "application/octet-stream"),
    ("zip", "application/zip"),
];

/// The type of content whose type cannot be guessed.
pub const DEFAULT_CONTENT_TYPE: &str = "application/octet-stream";

/// The extension of the last path segment, lower-cased; `None` for names without one
/// (`.bashrc` has none, as in Python).
fn extension(name: &str) -> Option<String> {
    let file = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let stem = file.trim_start_matches('.');
    let (_, ext) = stem.rsplit_once('.')?;
    (!ext.is_empty()).then(|| ext.to_ascii_lowercase())
}

/// The content type of `name`: `css/site.CSS` is `text/css`, `backup.tar.gz`
/// `application/gzip`, a name without extension `application/octet-stream`.
pub fn guess(name: &str) -> String {
    let Some(ext) = extension(name) else {
        return DEFAULT_CONTENT_TYPE.to_owned();
    };
    if let Some((_, t)) = TABLE.iter().find(|(e, _)| *e == ext) {
        return (*t).to_owned();
    }
    mime_guess::from_ext(&ext)
        .first_raw()
        .unwrap_or(DEFAULT_CONTENT_TYPE)
        .to_owned()
}

/// The `Content-Encoding` implied by the name: only `gzip` for `.svgz` (see the module docs).
pub fn implied_encoding(name: &str) -> Option<&'static str> {
    (extension(name).as_deref() == Some("svgz")).then_some("gzip")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_original_answers() {
        let cases = [
            ("a.txt", "text/plain"),
            ("a.css", "text/css"),
            ("a.HTML", "text/html"),
            ("a.htm", "text/html"),
            ("a.csv", "text/csv"),
            ("a.md", "text/markdown"),
            ("a.js", "text/javascript"),
            ("a.mjs", "text/javascript"),
            ("a.json", "application/json"),
            ("a.xml", "application/xml"),
            ("a.pdf", "application/pdf"),
            ("a.zip", "application/zip"),
            ("a.wasm", "application/wasm"),
            ("a.svg", "image/svg+xml"),
            ("a.png", "image/png"),
            ("a.jpg", "image/jpeg"),
            ("a.jpeg", "image/jpeg"),
            ("a.gif", "image/gif"),
            ("a.webp", "image/webp"),
            ("a.avif", "image/avif"),
            ("a.ico", "image/vnd.microsoft.icon"),
            ("a.woff", "font/woff"),
            ("a.woff2", "font/woff2"),
            ("a.ttf", "font/ttf"),
            ("a.otf", "font/otf"),
            ("a.eot", "application/vnd.ms-fontobject"),
            ("a.mp4", "video/mp4"),
            ("a.webm", "video/webm"),
            ("a.mp3", "audio/mpeg"),
            ("a.map", "application/octet-stream"),
            ("a.unknownext", "application/octet-stream"),
            ("none", "application/octet-stream"),
            ("a.bin", "application/octet-stream"),
        ];
        for (name, t) in cases {
            assert_eq!(guess(name), t, "{name}");
        }
    }

    #[test]
    fn archives_keep_their_type_and_get_no_encoding() {
        for name in ["c.tar.gz", "c.tgz", "d.gz"] {
            assert_eq!(guess(name), "application/gzip", "{name}");
            assert_eq!(implied_encoding(name), None);
        }
        assert_eq!(guess("e.bz2"), "application/x-bzip2");
        assert_eq!(guess("f.xz"), "application/x-xz");
        assert_eq!(guess("g.br"), "application/octet-stream");
        assert_eq!(guess("h.Z"), "application/octet-stream");
        assert_eq!(
            (guess("i.svgz").as_str(), implied_encoding("i.svgz")),
            ("image/svg+xml", Some("gzip"))
        );
    }

    #[test]
    fn extensions_are_those_of_the_last_segment() {
        assert_eq!(guess("dir.css/file"), "application/octet-stream");
        assert_eq!(guess(".bashrc"), "application/octet-stream");
        assert_eq!(guess("dir/.hidden.txt"), "text/plain");
        assert_eq!(guess("trailing."), "application/octet-stream");
        assert_eq!(guess("a\\b.css"), "text/css");
        assert_eq!(guess("other.rtf"), "application/rtf");
    }
}
