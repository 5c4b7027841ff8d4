//! Django's reference patterns (CSS `url()`, `@import`, source maps, JS modules), with
//! Python's `\s`, `\w` and case-insensitivity spelt out, and `pattern.sub` with a converter
//! that may fail.

use std::sync::LazyLock;

use regex::{Captures, Regex};

use super::*;

/// How a rewritten match is written back (Django's templates).
#[derive(Debug, Clone, Copy)]
pub(super) enum Template {
    /// `url("%(url)s")`
    Url,
    /// `@import url("%(url)s")`
    Import,
    /// `/*# sourceMappingURL=%(url)s */`
    CssSourceMap,
    /// `//# sourceMappingURL=%(url)s`
    JsSourceMap,
    /// `import%(import)s from "%(url)s";`
    ModuleImport,
    /// `export%(exports)s from "%(url)s";`
    ModuleExport,
    /// `import"%(url)s";`
    BareImport,
    /// `import("%(url)s")`
    DynamicImport,
}

impl Template {
    pub(super) fn fill(self, caps: &Captures<'_>, url: &str) -> String {
        let group = |name: &str| caps.name(name).map_or("None", |m| m.as_str());
        match self {
            Template::Url => format!("url(\"{url}\")"),
            Template::Import => format!("@import url(\"{url}\")"),
            Template::CssSourceMap => format!("/*# sourceMappingURL={url} */"),
            Template::JsSourceMap => format!("//# sourceMappingURL={url}"),
            Template::ModuleImport => format!("import{} from \"{url}\";", group("import")),
            Template::ModuleExport => format!("export{} from \"{url}\";", group("exports")),
            Template::BareImport => format!("import\"{url}\";"),
            Template::DynamicImport => format!("import(\"{url}\")"),
        }
    }
}

pub(super) struct Pattern {
    pub(super) regex: Regex,
    pub(super) template: Template,
}

pub(super) struct Patterns {
    css: Vec<Pattern>,
    js: Vec<Pattern>,
    js_modules: Vec<Pattern>,
}

/// Python's `\s` on `str` (`str.isspace()`): Unicode `White_Space` plus U+001C..U+001F.
pub(super) const S: &str = r"[\s\x1C-\x1F]";
/// Python's `\w` on `str`: letters, numbers and `_`.
pub(super) const W: &str = r"[\p{L}\p{N}_]";

/// A word matched as Python's `re.IGNORECASE` matches it on `str`: also `İ`/`ı` for `i` and
/// `ſ` for `s` (Rust's simple case folding gives `ſ` but not the dotted and dotless i).
pub(super) fn ci(word: &str) -> String {
    word.chars()
        .map(|c| match c {
            'i' => "[iIİı]".to_owned(),
            's' => "[sSſ]".to_owned(),
            c => format!("[{}{}]", c, c.to_ascii_uppercase()),
        })
        .collect()
}

/// Django's patterns, with Python's `\s`, `\w` and case-insensitivity spelt out.
pub(super) static PATTERNS: LazyLock<Patterns> = LazyLock::new(|| {
    let pattern = |source: String, template| Pattern {
        regex: Regex::new(&source).expect("valid pattern"),
        template,
    };
    Patterns {
        css: vec![
            pattern(
                format!(r#"(?P<matched>{}\(['"]?{S}*(?P<url>.*?)["']?\))"#, ci("url")),
                Template::Url,
            ),
            pattern(
                format!(r#"(?P<matched>@{}{S}*["']{S}*(?P<url>.*?)["'])"#, ci("import")),
                Template::Import,
            ),
            pattern(
                r"(?m)^(?P<matched>/\*#[ \t]sourceMappingURL=(?P<url>.*)[ \t]*\*/)$".to_owned(),
                Template::CssSourceMap,
            ),
        ],
        js: vec![pattern(
            r"(?m)^(?P<matched>//# sourceMappingURL=(?P<url>.*))$".to_owned(),
            Template::JsSourceMap,
        )],
        js_modules: vec![
            pattern(
                format!(
                    r#"(?P<matched>{import}(?s:(?P<import>[\s\x1C-\x1F\{{].*?|\*{S}*{as_}{S}*{W}+)){S}*{from}{S}*['"](?P<url>[./].*?)["']{S}*;)"#,
                    import = ci("import"),
                    as_ = ci("as"),
                    from = ci("from"),
                ),
                Template::ModuleImport,
            ),
            pattern(
                format!(
                    r#"(?P<matched>{export}(?s:(?P<exports>[\s\x1C-\x1F\{{].*?)){S}*{from}{S}*["'](?P<url>[./].*?)["']{S}*;)"#,
                    export = ci("export"),
                    from = ci("from"),
                ),
                Template::ModuleExport,
            ),
            pattern(
                format!(r#"(?P<matched>{}{S}*['"](?P<url>[./].*?)["']{S}*;)"#, ci("import")),
                Template::BareImport,
            ),
            pattern(
                format!(r#"(?P<matched>{}\(["'](?P<url>.*?)["']\))"#, ci("import")),
                Template::DynamicImport,
            ),
        ],
    }
});

/// The patterns applied to `name`, in Django's order.
pub(super) fn patterns_for(name: &str, options: &ManifestOptions) -> Vec<&'static Pattern> {
    let patterns = &*PATTERNS;
    let mut out = Vec::new();
    if name.ends_with(".css") {
        out.extend(&patterns.css);
    }
    if name.ends_with(".js") {
        out.extend(&patterns.js);
        if options.support_js_module_import_aggregation {
            out.extend(&patterns.js_modules);
        }
    }
    out
}

/// Python's `pattern.sub(converter, text)` with a converter that may fail.
pub(super) fn substitute(
    regex: &Regex,
    text: &str,
    mut replace: impl FnMut(&Captures<'_>) -> Result<String, Failure>,
) -> Result<String, Failure> {
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for caps in regex.captures_iter(text) {
        let Some(m) = caps.get(0) else { continue };
        out.push_str(&text[last..m.start()]);
        out.push_str(&replace(&caps)?);
        last = m.end();
    }
    out.push_str(&text[last..]);
    Ok(out)
}

/// Python's `UnicodeDecodeError` message for `bytes.decode("utf-8")`.
pub(super) fn utf8_error_message(bytes: &[u8], error: &std::str::Utf8Error) -> String {
    let start = error.valid_up_to();
    let (len, reason) = match error.error_len() {
        None => (bytes.len() - start, "unexpected end of data"),
        Some(1) if matches!(bytes[start], 0x80..=0xC1 | 0xF5..=0xFF) => (1, "invalid start byte"),
        Some(n) => (n, "invalid continuation byte"),
    };
    if len == 1 {
        format!(
            "'utf-8' codec can't decode byte 0x{:02x} in position {start}: {reason}",
            bytes[start]
        )
    } else {
        format!(
            "'utf-8' codec can't decode bytes in position {start}-{}: {reason}",
            start + len - 1
        )
    }
}
