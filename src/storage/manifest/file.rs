//! `staticfiles.json`: written byte for byte as Django's `json.dumps` writes it, and read
//! with Python's `json.loads` dialect.

use super::*;

/// The bytes of `staticfiles.json` for `paths` (original → hashed name), exactly as Django
/// writes them: `{"paths": {...}, "version": "1.1", "hash": "..."}` with Python's `json.dumps`
/// defaults (`", "` and `": "` separators, non-ASCII as `\uXXXX`, astral characters as
/// surrogate pairs). `paths` are written in the order given; `hash` is the first 12 hex digits
/// of the MD5 of the JSON list of the sorted `[original, hashed]` pairs.
pub fn manifest_json(paths: &[(String, String)]) -> String {
    let mut out = String::from("{\"paths\": {");
    for (i, (original, hashed)) in paths.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        push_json_str(&mut out, original);
        out.push_str(": ");
        push_json_str(&mut out, hashed);
    }
    out.push_str("}, \"version\": ");
    push_json_str(&mut out, MANIFEST_VERSION);
    out.push_str(", \"hash\": ");
    push_json_str(&mut out, &manifest_hash(paths));
    out.push('}');
    out
}

/// Django's `manifest_hash`: the [`file_hash`] of `json.dumps(sorted(paths))`.
pub fn manifest_hash(paths: &[(String, String)]) -> String {
    let mut sorted: Vec<&(String, String)> = paths.iter().collect();
    sorted.sort();
    let mut json = String::from("[");
    for (i, (original, hashed)) in sorted.into_iter().enumerate() {
        if i > 0 {
            json.push_str(", ");
        }
        json.push('[');
        push_json_str(&mut json, original);
        json.push_str(", ");
        push_json_str(&mut json, hashed);
        json.push(']');
    }
    json.push(']');
    file_hash(json.as_bytes())
}

/// A JSON string as Python's `json.dumps` writes it with `ensure_ascii=True`.
pub(super) fn push_json_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            ' '..='~' => out.push(c),
            _ => {
                for unit in c.encode_utf16(&mut [0; 2]) {
                    let _ = write!(out, "\\u{unit:04x}");
                }
            }
        }
    }
    out.push('"');
}

/// A loaded manifest: original → hashed names, in the file's order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Manifest {
    paths: Vec<(String, String)>,
    index: HashMap<String, usize>,
    version: String,
    hash: String,
}

impl Manifest {
    /// A manifest of `paths` (later duplicates replace earlier ones, in place).
    pub fn new(paths: Vec<(String, String)>, version: impl Into<String>, hash: impl Into<String>) -> Self {
        let mut manifest = Manifest {
            paths: Vec::new(),
            index: HashMap::new(),
            version: version.into(),
            hash: hash.into(),
        };
        for (original, hashed) in paths {
            match manifest.index.get(&original) {
                Some(&i) => manifest.paths[i].1 = hashed,
                None => {
                    manifest.index.insert(original.clone(), manifest.paths.len());
                    manifest.paths.push((original, hashed));
                }
            }
        }
        manifest
    }

    /// The manifest Django would write for `paths` (version 1.1, with its hash).
    pub fn from_paths(paths: Vec<(String, String)>) -> Self {
        let hash = manifest_hash(&paths);
        Manifest::new(paths, MANIFEST_VERSION, hash)
    }

    /// Original → hashed names.
    pub fn paths(&self) -> &[(String, String)] {
        &self.paths
    }

    /// The hashed name of an original name.
    pub fn get(&self, original: &str) -> Option<&str> {
        self.index.get(original).map(|&i| self.paths[i].1.as_str())
    }

    /// The format version read (`"1.0"` or `"1.1"`).
    pub fn version(&self) -> &str {
        &self.version
    }

    /// The manifest's hash (`""` for a version 1.0 manifest without one).
    pub fn hash(&self) -> &str {
        &self.hash
    }

    /// Whether the manifest maps no name.
    pub fn is_empty(&self) -> bool {
        self.paths.is_empty()
    }

    /// Number of names mapped.
    pub fn len(&self) -> usize {
        self.paths.len()
    }
}

/// Reads a manifest (Django's `load_manifest`): versions `"1.0"` and `"1.1"`, `hash` defaulting
/// to `""`, `paths` to nothing. Anything else (not UTF-8, not JSON, another version, `paths`
/// not an object of strings) is [`ErrorKind::InvalidResponse`] with Django's message
/// `Couldn't load manifest 'staticfiles.json' (version 1.1)`, which always quotes the version
/// Django writes. A missing manifest is not an error in Django: use an empty
/// [`Manifest::default`].
pub fn parse_manifest(bytes: &[u8], manifest_name: &str) -> Result<Manifest> {
    let error = || {
        Error::new(
            ErrorKind::InvalidResponse,
            format!("Couldn't load manifest '{manifest_name}' (version {MANIFEST_VERSION})"),
        )
    };
    let text = std::str::from_utf8(bytes).map_err(|_| error())?;
    let Some(Json::Object(stored)) = json::parse(text) else {
        return Err(error());
    };
    let field = |key: &str| stored.iter().find(|(k, _)| k == key).map(|(_, v)| v);
    let version = match field("version") {
        Some(Json::String(version)) if version == "1.0" || version == "1.1" => version.clone(),
        _ => return Err(error()),
    };
    let paths = match field("paths") {
        None => Vec::new(),
        Some(Json::Object(paths)) => paths
            .iter()
            .map(|(original, hashed)| match hashed {
                Json::String(hashed) => Ok((original.clone(), hashed.clone())),
                _ => Err(error()),
            })
            .collect::<Result<_>>()?,
        Some(_) => return Err(error()),
    };
    let hash = match field("hash") {
        None => String::new(),
        Some(Json::String(hash)) => hash.clone(),
        Some(_) => return Err(error()),
    };
    Ok(Manifest::new(paths, version, hash))
}

/// JSON values, as Python's `json.loads` reads them (objects keep their order; a repeated key
/// keeps its first place and its last value).
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Json {
    Null,
    Bool(bool),
    Number,
    String(String),
    Array(Vec<Json>),
    Object(Vec<(String, Json)>),
}

/// A reader of Python's JSON dialect (`NaN`, `Infinity` and `-Infinity` are numbers; raw
/// control characters in strings are refused).
pub(super) mod json {
    use std::collections::HashMap;

    use super::Json;

    /// `json.loads(text)`, `None` when Python would raise.
    pub(super) fn parse(text: &str) -> Option<Json> {
        let mut parser = Parser {
            s: text.as_bytes(),
            i: 0,
        };
        parser.ws();
        let value = parser.value(0)?;
        parser.ws();
        (parser.i == parser.s.len()).then_some(value)
    }

    struct Parser<'a> {
        s: &'a [u8],
        i: usize,
    }

    impl Parser<'_> {
        fn ws(&mut self) {
            while matches!(self.s.get(self.i), Some(b' ' | b'\t' | b'\n' | b'\r')) {
                self.i += 1;
            }
        }

        fn eat(&mut self, literal: &str) -> bool {
            let found = self.s[self.i..].starts_with(literal.as_bytes());
            if found {
                self.i += literal.len();
            }
            found
        }

        fn value(&mut self, depth: usize) -> Option<Json> {
            if depth > 900 {
                return None;
            }
            match *self.s.get(self.i)? {
                b'"' => self.string().map(Json::String),
                b'{' => self.object(depth),
                b'[' => self.array(depth),
                b'n' if self.eat("null") => Some(Json::Null),
                b't' if self.eat("true") => Some(Json::Bool(true)),
                b'f' if self.eat("false") => Some(Json::Bool(false)),
                b'N' if self.eat("NaN") => Some(Json::Number),
                b'I' if self.eat("Infinity") => Some(Json::Number),
                b'-' if self.eat("-Infinity") => Some(Json::Number),
                _ => self.number(),
            }
        }

        fn digits(&mut self) -> usize {
            let start = self.i;
            while self.s.get(self.i).is_some_and(u8::is_ascii_digit) {
                self.i += 1;
            }
            self.i - start
        }

        fn number(&mut self) -> Option<Json> {
            self.eat("-");
            match self.s.get(self.i)? {
                b'0' => self.i += 1,
                b'1'..=b'9' => {
                    self.digits();
                }
                _ => return None,
            }
            let mark = self.i;
            if !(self.eat(".") && self.digits() > 0) {
                self.i = mark;
            }
            let mark = self.i;
            if matches!(self.s.get(self.i), Some(b'e' | b'E')) {
                self.i += 1;
                if matches!(self.s.get(self.i), Some(b'+' | b'-')) {
                    self.i += 1;
                }
                if self.digits() == 0 {
                    self.i = mark;
                }
            }
            Some(Json::Number)
        }

        fn hex4(&mut self) -> Option<u32> {
            let digits = self.s.get(self.i..self.i + 4)?;
            let mut value = 0;
            for &d in digits {
                value = value * 16 + (d as char).to_digit(16)?;
            }
            self.i += 4;
            Some(value)
        }

        fn string(&mut self) -> Option<String> {
            self.i += 1;
            let mut out = String::new();
            loop {
                let start = self.i;
                while let Some(&b) = self.s.get(self.i) {
                    if b == b'"' || b == b'\\' || b < 0x20 {
                        break;
                    }
                    self.i += 1;
                }
                out.push_str(std::str::from_utf8(&self.s[start..self.i]).ok()?);
                match *self.s.get(self.i)? {
                    b'"' => {
                        self.i += 1;
                        return Some(out);
                    }
                    b'\\' => {
                        self.i += 1;
                        let escape = *self.s.get(self.i)?;
                        self.i += 1;
                        match escape {
                            b'"' => out.push('"'),
                            b'\\' => out.push('\\'),
                            b'/' => out.push('/'),
                            b'b' => out.push('\u{8}'),
                            b'f' => out.push('\u{c}'),
                            b'n' => out.push('\n'),
                            b'r' => out.push('\r'),
                            b't' => out.push('\t'),
                            b'u' => {
                                let mut unit = self.hex4()?;
                                if (0xD800..0xDC00).contains(&unit) && self.s[self.i..].starts_with(b"\\u") {
                                    let mark = self.i;
                                    self.i += 2;
                                    match self.hex4()? {
                                        low @ 0xDC00..0xE000 => {
                                            unit = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)
                                        }
                                        _ => self.i = mark,
                                    }
                                }
                                // A lone surrogate: Python keeps it, a Rust string cannot.
                                out.push(char::from_u32(unit)?);
                            }
                            _ => return None,
                        }
                    }
                    _ => return None,
                }
            }
        }

        fn array(&mut self, depth: usize) -> Option<Json> {
            self.i += 1;
            let mut items = Vec::new();
            self.ws();
            if self.eat("]") {
                return Some(Json::Array(items));
            }
            loop {
                self.ws();
                items.push(self.value(depth + 1)?);
                self.ws();
                if self.eat("]") {
                    return Some(Json::Array(items));
                }
                if !self.eat(",") {
                    return None;
                }
            }
        }

        fn object(&mut self, depth: usize) -> Option<Json> {
            self.i += 1;
            let mut members: Vec<(String, Json)> = Vec::new();
            let mut index: HashMap<String, usize> = HashMap::new();
            self.ws();
            if self.eat("}") {
                return Some(Json::Object(members));
            }
            loop {
                self.ws();
                if self.s.get(self.i) != Some(&b'"') {
                    return None;
                }
                let key = self.string()?;
                self.ws();
                if !self.eat(":") {
                    return None;
                }
                self.ws();
                let value = self.value(depth + 1)?;
                match index.get(&key) {
                    Some(&at) => members[at].1 = value,
                    None => {
                        index.insert(key.clone(), members.len());
                        members.push((key, value));
                    }
                }
                self.ws();
                if self.eat("}") {
                    return Some(Json::Object(members));
                }
                if !self.eat(",") {
                    return None;
                }
            }
        }
    }
}
