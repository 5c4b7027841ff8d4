use super::*;

fn files(list: &[(&str, &str)]) -> Vec<(String, Vec<u8>)> {
    list.iter()
        .map(|(name, content)| (name.to_string(), content.as_bytes().to_vec()))
        .collect()
}

fn stored<'a>(out: &'a PostProcessed, name: &str) -> &'a str {
    let (_, content) = out
        .stored
        .iter()
        .find(|(n, _)| n == name)
        .unwrap_or_else(|| panic!("{name} not stored"));
    std::str::from_utf8(content).unwrap()
}

fn message(e: &Error) -> String {
    let text = e.to_string();
    text.split_once(": ").map_or(text.clone(), |(_, m)| m.to_owned())
}

/// Rewrites `text` of file `name` once, with `known` as this run's hashed names and `files`
/// as the storage.
fn rewrite(name: &str, text: &str, known: &[(&str, &str)], files: &[(&str, &[u8])]) -> String {
    let options = ManifestOptions::default();
    let mut nothing = NothingStored;
    let mut run = Run::new(&options, files, &mut nothing);
    for (original, hashed) in known {
        run.index.insert(original.to_string(), run.hashed_files.len());
        run.hashed_files.push((original.to_string(), hashed.to_string()));
    }
    let mut content = text.to_owned();
    for pattern in patterns_for(name, &options) {
        match substitute(&pattern.regex, &content, |caps| {
            run.convert(name, caps, pattern.template)
        }) {
            Ok(text) => content = text,
            Err(Failure::Value(e) | Failure::Other(e)) => panic!("{e}"),
        }
    }
    content
}

#[test]
fn hashed_names() {
    assert_eq!(file_hash(b"x"), "9dd4e461268c");
    assert_eq!(hashed_name("noext", b"x"), "noext.9dd4e461268c");
    assert_eq!(
        hashed_name("app.css.map", br#"{"version":3}"#),
        "app.css.6dbd5863e342.map"
    );
    assert_eq!(hashed_name("a b+c.css", b"x"), "a b+c.9dd4e461268c.css");
    assert_eq!(hashed_name("css/app.css", b"x"), "css/app.9dd4e461268c.css");
    // Query and fragment kept; `?#` keeps its `?`.
    assert_eq!(
        hashed_name("fonts/f.eot?#iefix", b"x"),
        "fonts/f.9dd4e461268c.eot?#iefix"
    );
    assert_eq!(
        hashed_name("img/logo.png?v=1#frag", b"x"),
        "img/logo.9dd4e461268c.png?v=1#frag"
    );
    assert_eq!(
        hashed_name("img/logo.png?v=1?#x", b"x"),
        "img/logo.9dd4e461268c.png?v=1?#x"
    );
    // Percent-decoded, trimmed, leading dots are not an extension, `//` before the name
    // collapses (Python's `os.path.split`).
    assert_eq!(hashed_name("a%20b%C3%BC.css", b"x"), "a bü.9dd4e461268c.css");
    assert_eq!(hashed_name(" img/x.png\u{3000}", b"x"), "img/x.9dd4e461268c.png");
    assert_eq!(hashed_name(".htaccess", b"x"), ".htaccess.9dd4e461268c");
    assert_eq!(hashed_name("dir/..x", b"x"), "dir/..x.9dd4e461268c");
    assert_eq!(hashed_name("dir/.x.y", b"x"), "dir/.x.9dd4e461268c.y");
    assert_eq!(hashed_name("a.", b"x"), "a.9dd4e461268c.");
    assert_eq!(hashed_name("a//b.css", b"x"), "a/b.9dd4e461268c.css");
    assert_eq!(hashed_name("a?b.png", b"x"), "a.9dd4e461268c?b.png");
    assert_eq!(lookup_name("a%20b.css?v=1#x"), "a b.css");
}

#[test]
fn verified_rewrites_from_the_spec() {
    let known = [
        ("css/base.css", "css/base.702ae7cbf5f9.css"),
        ("img/logo.png", "img/logo.0b75926ab9a9.png"),
        ("fonts/f.eot", "fonts/f.4aaf23261cd3.eot"),
        ("css/app.css.map", "css/app.css.6dbd5863e342.map"),
        ("js/app.js.map", "js/app.js.6dbd5863e342.map"),
    ];
    // A reference with a query is not looked up in the run's names: Django hashes the
    // stored file (here with content `x`).
    let storage: &[(&str, &[u8])] = &[("img/logo.png", b"x"), ("css/app.css.map", br#"{"version":3}"#)];
    let css = |text: &str| rewrite("css/app.css", text, &known, storage);
    assert_eq!(
        css(r#"@import "base.css";"#),
        r#"@import url("base.702ae7cbf5f9.css");"#
    );
    assert_eq!(
        css(r#"url("../img/logo.png")"#),
        r#"url("../img/logo.0b75926ab9a9.png")"#
    );
    assert_eq!(
        css("url(../img/logo.png#frag)"),
        r#"url("../img/logo.0b75926ab9a9.png#frag")"#
    );
    assert_eq!(
        css("url('/static/img/logo.png?v=1')"),
        r#"url("/static/img/logo.9dd4e461268c.png?v=1")"#
    );
    assert_eq!(
        css(r#"url("../fonts/f.eot?#iefix")"#),
        r#"url("../fonts/f.4aaf23261cd3.eot?#iefix")"#
    );
    for unchanged in [
        "url(data:image/png;base64,iVBORw0KGgo=)",
        "url(http://example.com/x.png)",
        "url(//cdn.example.com/x.png)",
        "url(/other/x.png)",
        "url()",
        r##"url("#svgid")"##,
        "/*# SourceMappingURL=app.css.map */",
    ] {
        assert_eq!(css(unchanged), unchanged);
    }
    assert_eq!(
        css("/*# sourceMappingURL=app.css.map */"),
        "/*# sourceMappingURL=app.css.6dbd5863e342.map */"
    );
    // The greedy URL keeps the spaces before `*/`: not a name of the run, so Django hashes
    // the stored file (its trimmed name).
    assert_eq!(
        css("/*#\tsourceMappingURL=app.css.map  */"),
        "/*# sourceMappingURL=app.css.6dbd5863e342.map */"
    );
    let js = |text: &str| rewrite("js/app.js", text, &known, &[]);
    assert_eq!(
        js("//# sourceMappingURL=app.js.map"),
        "//# sourceMappingURL=app.js.6dbd5863e342.map"
    );
    for unchanged in [
        "//# SOURCEMAPPINGURL=app.js.map",
        "//#  sourceMappingURL=app.js.map",
        " //# sourceMappingURL=x",
    ] {
        assert_eq!(js(unchanged), unchanged);
    }
    // Python's `\s` and case-insensitivity: U+001C is a space, `İ` and `ı` are an `i`.
    assert_eq!(
        css("url(\u{1c}../img/logo.png)"),
        r#"url("../img/logo.0b75926ab9a9.png")"#
    );
    assert_eq!(
        css(r#"@İMPORT "base.css";"#),
        r#"@import url("base.702ae7cbf5f9.css");"#
    );
    assert_eq!(
        css(r#"@ımport 'base.css';"#),
        r#"@import url("base.702ae7cbf5f9.css");"#
    );
    assert_eq!(css("URL(../img/logo.png)"), r#"url("../img/logo.0b75926ab9a9.png")"#);
    // Percent-encoded references are written decoded.
    let known = [("img/with space.png", "img/with space.9dd4e461268c.png")];
    assert_eq!(
        rewrite("css/a.css", "url(../img/with%20space.png)", &known, &[]),
        r#"url("../img/with space.9dd4e461268c.png")"#
    );
}

/// Outputs of Django 5.2 for the same trees.
#[test]
fn post_process_css_as_django() {
    let css = "@import \"base.css\";\n@import 'sub/x.css';\n@İmport \"base.css\";\n\
        body { background: url(\"../img/logo.png\"); }\n\
        .a { background: url(../img/logo.png#frag); }\n\
        .b { background: url('/static/img/logo.png?v=1'); }\n\
        .c { src: url(\"../fonts/f.eot?#iefix\") format(\"embedded-opentype\"); }\n\
        .d { background: url(data:image/png;base64,AAAA); }\n\
        .e { background: url(http://example.com/x.png); }\n\
        .f { background: url(//cdn.example.com/x.png); }\n\
        .g { background: url(/other/x.png); }\n\
        .h { background: url(); }\n\
        .i { filter: url(\"#svgid\"); }\n\
        .j { background: url(\u{1c}../img/logo.png); }\n\
        .k { background: URL( ../img/with%20space.png ); }\n\
        /*# sourceMappingURL=app.css.map */\n\
        /*# SourceMappingURL=app.css.map */\n";
    let input = files(&[
        ("css/app.css", css),
        ("css/base.css", "body{}"),
        ("css/sub/x.css", "x{}"),
        ("img/logo.png", "x"),
        ("fonts/f.eot", "x"),
        ("css/app.css.map", r#"{"version":3}"#),
        ("img/with space.png", "x"),
    ]);
    let out = post_process(&input, &ManifestOptions::default()).unwrap();
    let pairs = |list: &[(&str, &str)]| -> Vec<(String, String)> {
        list.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
    };
    assert_eq!(
        out.hashed_files,
        pairs(&[
            ("css/sub/x.css", "css/sub/x.9d14cebbf9b9.css"),
            ("css/app.css", "css/app.06ff2afd249c.css"),
            ("css/base.css", "css/base.aa676972bbd2.css"),
            ("img/logo.png", "img/logo.9dd4e461268c.png"),
            ("fonts/f.eot", "fonts/f.9dd4e461268c.eot"),
            ("css/app.css.map", "css/app.css.6dbd5863e342.map"),
            ("img/with space.png", "img/with space.9dd4e461268c.png"),
        ])
    );
    let yielded: Vec<&str> = out
        .processed
        .iter()
        .map(|(name, _, processed)| (assert!(processed), name).1.as_str())
        .collect();
    assert_eq!(
        yielded,
        [
            "img/logo.png",
            "fonts/f.eot",
            "css/app.css.map",
            "img/with space.png",
            "css/sub/x.css",
            "css/app.css",
            "css/base.css"
        ]
    );
    assert_eq!(
        stored(&out, "css/app.06ff2afd249c.css"),
        "@import url(\"base.aa676972bbd2.css\");\n@import url(\"sub/x.9d14cebbf9b9.css\");\n\
        @import url(\"base.aa676972bbd2.css\");\n\
        body { background: url(\"../img/logo.9dd4e461268c.png\"); }\n\
        .a { background: url(\"../img/logo.9dd4e461268c.png#frag\"); }\n\
        .b { background: url(\"/static/img/logo.9dd4e461268c.png?v=1\"); }\n\
        .c { src: url(\"../fonts/f.9dd4e461268c.eot?#iefix\") format(\"embedded-opentype\"); }\n\
        .d { background: url(data:image/png;base64,AAAA); }\n\
        .e { background: url(http://example.com/x.png); }\n\
        .f { background: url(//cdn.example.com/x.png); }\n\
        .g { background: url(/other/x.png); }\n\
        .h { background: url(); }\n\
        .i { filter: url(\"#svgid\"); }\n\
        .j { background: url(\"../img/logo.9dd4e461268c.png\"); }\n\
        .k { background: url(\"../img/with space.9dd4e461268c.png\"); }\n\
        /*# sourceMappingURL=app.css.6dbd5863e342.map */\n\
        /*# SourceMappingURL=app.css.map */\n"
    );
    // Every hashed copy, once; no intermediate copies.
    let mut names: Vec<&str> = out.stored.iter().map(|(n, _)| n.as_str()).collect();
    names.sort_unstable();
    let mut expected: Vec<&str> = out.hashed_files.iter().map(|(_, h)| h.as_str()).collect();
    expected.sort_unstable();
    assert_eq!(names, expected);
    assert!(out.deleted.is_empty());
}

/// Django 5.2 with `support_js_module_import_aggregation`, including its quirks: an
/// `import` match runs over the next statement (the `export` is hashed twice, the file
/// `dep3.<hash>.js` existing by then) and the bare import loses its space.
#[test]
fn post_process_js_modules_as_django() {
    let module = "import { dep } from \"./dep.js\";\nimport dep2 from './lib/dep2.js';\n\
        import * as all from \"../js/lib/all.js\";\nimport*as two from\"./dep.js\";\nimport \"./side.js\";\n\
        export { dep3 } from \"./lib/dep3.js\";\nexport * from \"./lib/all.js\";\n\
        import { ext } from \"https://cdn.example.com/ext.js\";\nimport { bare } from \"bare-module\";\n\
        const lazy = import(\"./lazy.js\");\nexport default dep;\n//# sourceMappingURL=module.js.map\n";
    let input = files(&[
        ("js/module.js", module),
        ("js/dep.js", "d"),
        ("js/lib/dep2.js", "2"),
        ("js/lib/all.js", "all"),
        ("js/side.js", "s"),
        ("js/lib/dep3.js", "3"),
        ("js/lazy.js", "l"),
        ("js/module.js.map", r#"{"version":3}"#),
    ]);
    let options = ManifestOptions {
        support_js_module_import_aggregation: true,
        ..Default::default()
    };
    let out = post_process(&input, &options).unwrap();
    assert_eq!(
        stored(&out, "js/module.cacca328355b.js"),
        "import { dep } from \"./dep.8277e0910d75.js\";\nimport dep2 from \"./lib/dep2.c81e728d9d4c.js\";\n\
        import * as all from \"../js/lib/all.a181a603769c.js\";\nimport*as two from \"./dep.8277e0910d75.js\";\n\
        import\"./side.03c7c0ace395.js\";\nexport { dep3 } from \"./lib/dep3.eccbc87e4b5c.eccbc87e4b5c.js\";\n\
        export * from \"./lib/all.a181a603769c.js\";\nimport { ext } from \"https://cdn.example.com/ext.js\";\n\
        import { bare } from \"bare-module\";\nconst lazy = import(\"./lazy.2db95e8e1a92.js\");\n\
        export default dep;\n//# sourceMappingURL=module.js.6dbd5863e342.map\n"
    );
    // Off by default: only the source map is rewritten.
    let out = post_process(&input, &ManifestOptions::default()).unwrap();
    let expected = module.replace("module.js.map", "module.js.6dbd5863e342.map");
    assert_eq!(stored(&out, "js/module.d2d72960e54a.js"), expected);
    assert_eq!(out.processed.len(), 8);
}

#[test]
fn passes_until_hashes_settle() {
    // `a.css` comes first and sees the original `b.css`; a second pass fixes it.
    let input = files(&[("a.css", "@import 'b.css';"), ("b.css", "url(x.png)"), ("x.png", "x")]);
    let out = post_process(&input, &ManifestOptions::default()).unwrap();
    let b = out.hashed_files.iter().find(|(n, _)| n == "b.css").unwrap().1.clone();
    let a = &out.hashed_files.iter().find(|(n, _)| n == "a.css").unwrap().1;
    assert_eq!(stored(&out, &b), r#"url("x.9dd4e461268c.png")"#);
    assert_eq!(stored(&out, a), format!(r#"@import url("{b}");"#));
    assert_eq!(
        out.stored.len(),
        3,
        "superseded copies are not stored: {:?}",
        out.stored
    );
    // With no further pass, the first pass's output stays.
    let options = ManifestOptions {
        max_post_process_passes: 0,
        ..Default::default()
    };
    let out = post_process(&input, &options).unwrap();
    let stale = format!(r#"@import url("b.{}.css");"#, file_hash(b"url(x.png)"));
    assert_eq!(stored(&out, &out.hashed_files[0].1), stale);
}

/// Django 5.2: a reference with a query is not a name of the run, so it gets the hash of
/// the stored original, not of the rewritten file.
#[test]
fn references_with_a_query_hash_the_stored_original() {
    let input = files(&[
        (
            "css/app.css",
            "/*#\tsourceMappingURL=app.css.map  */\n@import 'x.css?v=1';",
        ),
        ("css/app.css.map", r#"{"version":3}"#),
        ("css/x.css", "url(../img/a.png)"),
        ("img/a.png", "x"),
    ]);
    let out = post_process(&input, &ManifestOptions::default()).unwrap();
    assert_eq!(
        out.hashed_files[2],
        ("css/x.css".to_owned(), "css/x.a2e6dd56ed33.css".to_owned())
    );
    assert_eq!(
        stored(&out, "css/app.b22762c8ed41.css"),
        "/*# sourceMappingURL=app.css.6dbd5863e342.map */\n@import url(\"x.5daedfbfd64f.css?v=1\");"
    );
}

#[test]
fn max_passes_exceeded() {
    let input = files(&[("a.css", "@import 'b.css';"), ("b.css", "@import 'a.css';")]);
    let err = post_process(&input, &ManifestOptions::default()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unsupported);
    assert_eq!(message(&err), "Max post-process passes exceeded.");
    let input = files(&[("self.css", "url(self.css)")]);
    assert_eq!(
        message(&post_process(&input, &ManifestOptions::default()).unwrap_err()),
        "Max post-process passes exceeded."
    );
}

#[test]
fn missing_files() {
    let options = ManifestOptions {
        storage_name: "<storages.s3.S3ManifestStaticStorage object at 0xADDR>".into(),
        ..Default::default()
    };
    let input = files(&[("css/missing.css", ".bad { background: url(../img/nope.png); }")]);
    let err = post_process(&input, &options).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert_eq!(
        message(&err),
        "The file 'img/nope.png' could not be found with <storages.s3.S3ManifestStaticStorage object at 0xADDR>."
    );
    // `url(  "x"  )`: the quotes are part of the URL.
    let input = files(&[
        ("css/spaces.css", r#".h { background: url(  "../img/bg.png"  ); }"#),
        ("img/bg.png", "x"),
    ]);
    let err = post_process(&input, &options).unwrap_err();
    assert_eq!(
        message(&err),
        r#"The file 'css/"../img/bg.png"' could not be found with <storages.s3.S3ManifestStaticStorage object at 0xADDR>."#
    );
    // Files outside the run come from the storage.
    let mut storage = HashMap::from([("img/nope.png".to_owned(), b"x".to_vec())]);
    let input = files(&[("css/missing.css", "url(../img/nope.png)")]);
    let out = post_process_with(&input, &options, &mut storage).unwrap();
    assert_eq!(
        stored(&out, &out.hashed_files[0].1),
        r#"url("../img/nope.9dd4e461268c.png")"#
    );
}

#[test]
fn non_utf8_files_fail_as_in_python() {
    let input = vec![("css/bad.css".to_owned(), b"a{}\xff".to_vec())];
    let err = post_process(&input, &ManifestOptions::default()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Io);
    assert_eq!(
        message(&err),
        "'utf-8' codec can't decode byte 0xff in position 3: invalid start byte"
    );
    // Non-adjustable files may hold anything.
    let input = vec![("img/bin.png".to_owned(), b"\xff".to_vec())];
    assert!(post_process(&input, &ManifestOptions::default()).is_ok());
    let cases: &[(&[u8], &str)] = &[
        (b"ab\xe2\x82", "bytes in position 2-3: unexpected end of data"),
        (b"a\xe2\x82b", "bytes in position 1-2: invalid continuation byte"),
        (b"\xc0\x80", "byte 0xc0 in position 0: invalid start byte"),
        (b"\xed\xa0\x80", "byte 0xed in position 0: invalid continuation byte"),
        (b"\xf0\x9f", "bytes in position 0-1: unexpected end of data"),
        (b"\xe2", "byte 0xe2 in position 0: unexpected end of data"),
        (
            b"\xf0\x80\x80\x80",
            "byte 0xf0 in position 0: invalid continuation byte",
        ),
        (
            b"ok\xf4\x90\x80\x80",
            "byte 0xf4 in position 2: invalid continuation byte",
        ),
    ];
    for (bytes, expected) in cases {
        let e = std::str::from_utf8(bytes).unwrap_err();
        assert_eq!(
            utf8_error_message(bytes, &e),
            format!("'utf-8' codec can't decode {expected}")
        );
    }
}

#[test]
fn existing_copies_and_intermediate_files() {
    let input = files(&[("a.css", "url(x.png)"), ("x.png", "x")]);
    let first = post_process(&input, &ManifestOptions::default()).unwrap();
    // Already stored: the image is not copied again (and not "processed"), the CSS is.
    let mut storage: HashMap<String, Vec<u8>> = first.stored.iter().cloned().collect();
    let again = post_process_with(&input, &ManifestOptions::default(), &mut storage).unwrap();
    assert_eq!(again.hashed_files, first.hashed_files);
    let flags: Vec<(&str, bool)> = again.processed.iter().map(|(n, _, p)| (n.as_str(), *p)).collect();
    assert_eq!(flags, [("x.png", false), ("a.css", true)]);
    assert_eq!(again.stored.len(), 1);
    // A stale copy under the unprocessed content's hash is deleted.
    let intermediate = hashed_name("a.css", b"url(x.png)");
    let mut storage = HashMap::from([(intermediate.clone(), b"old".to_vec())]);
    let out = post_process_with(&input, &ManifestOptions::default(), &mut storage).unwrap();
    assert_eq!(out.deleted, std::slice::from_ref(&intermediate));
    // `keep_intermediate_files` keeps it, with the processed content.
    let options = ManifestOptions {
        keep_intermediate_files: true,
        ..Default::default()
    };
    let out = post_process(&input, &options).unwrap();
    assert_eq!(stored(&out, &intermediate), r#"url("x.9dd4e461268c.png")"#);
    assert_eq!(out.stored.len(), 3);
}

#[test]
fn manifest_json_as_django() {
    let paths = vec![
        ("img/logo.png".to_owned(), "img/logo.0b75926ab9a9.png".to_owned()),
        ("css/app.css".to_owned(), "css/app.917104749980.css".to_owned()),
    ];
    // SPEC §5.3's example, whose recorded hash (08e41ea73d0b) belongs to a longer map:
    // Python gives 842d75c6aad1 for these two pairs.
    assert_eq!(
        manifest_json(&paths),
        r#"{"paths": {"img/logo.png": "img/logo.0b75926ab9a9.png", "css/app.css": "css/app.917104749980.css"}, "version": "1.1", "hash": "842d75c6aad1"}"#
    );
    assert_eq!(
        manifest_json(&[]),
        r#"{"paths": {}, "version": "1.1", "hash": "d75171398898"}"#
    );
    // ensure_ascii: \uXXXX (lower-case hex), surrogate pairs, DEL and controls escaped.
    let paths = vec![
        ("img/ünï.png".to_owned(), "img/ünï.7b774effe4a3.png".to_owned()),
        ("e/😀 \"q\"\\\u{7f}\u{1}\t.css".to_owned(), "x".to_owned()),
    ];
    assert_eq!(
        manifest_json(&paths),
        r#"{"paths": {"img/\u00fcn\u00ef.png": "img/\u00fcn\u00ef.7b774effe4a3.png", "e/\ud83d\ude00 \"q\"\\\u007f\u0001\t.css": "x"}, "version": "1.1", "hash": "7c8c54d907d1"}"#
    );
    let manifest = parse_manifest(manifest_json(&paths).as_bytes(), MANIFEST_NAME).unwrap();
    assert_eq!(manifest.paths(), paths);
    assert_eq!(manifest, Manifest::from_paths(paths));
}

#[test]
fn manifest_reading() {
    let spec = br#"{"paths": {"img/logo.png": "img/logo.0b75926ab9a9.png", "css/app.css": "css/app.917104749980.css"}, "version": "1.1", "hash": "08e41ea73d0b"}"#;
    let manifest = parse_manifest(spec, MANIFEST_NAME).unwrap();
    assert_eq!(
        (manifest.version(), manifest.hash(), manifest.len()),
        ("1.1", "08e41ea73d0b", 2)
    );
    assert_eq!(manifest.get("css/app.css"), Some("css/app.917104749980.css"));
    let old = parse_manifest(br#"{"version": "1.0", "paths": {"a.css": "a.1.css"}}"#, MANIFEST_NAME).unwrap();
    assert_eq!(
        (old.version(), old.hash(), old.get("a.css")),
        ("1.0", "", Some("a.1.css"))
    );
    let bare = parse_manifest(b" {\"version\": \"1.1\"}\n", MANIFEST_NAME).unwrap();
    assert!(bare.is_empty());
    // Python's JSON: NaN, escapes, a repeated key keeps its place and its last value.
    let odd = br#"{"x": NaN, "paths": {"a": "1", "\u00e9\ud83d\ude00\/": "2", "a": "3"}, "version": "1.1", "y": [-Infinity, 1.5e3, true, null]}"#;
    let odd = parse_manifest(odd, MANIFEST_NAME).unwrap();
    assert_eq!(
        odd.paths(),
        [("a".to_owned(), "3".to_owned()), ("é😀/".to_owned(), "2".to_owned())]
    );
    for bad in [
        &b"not json"[..],
        b"",
        b"[]",
        br#"{"paths": {}}"#,
        br#"{"version": "2.0"}"#,
        br#"{"version": 1.1}"#,
        br#"{"version": "1.1", "paths": []}"#,
        br#"{"version": "1.1", "paths": {"a": 1}}"#,
        br#"{"version": "1.1",}"#,
        br#"{"version": "1.1"} x"#,
        "\u{feff}{\"version\": \"1.1\"}".as_bytes(),
        b"{\"version\": \"1.1\", \"paths\": {\"a\tb\": \"c\"}}",
        b"{\"version\": \"1.1\", \"hash\": \"\xff\"}",
    ] {
        let err = parse_manifest(bad, MANIFEST_NAME).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidResponse);
        assert_eq!(message(&err), "Couldn't load manifest 'staticfiles.json' (version 1.1)");
    }
}

#[test]
fn stored_names() {
    let manifest = Manifest::from_paths(vec![
        ("css/app.css".into(), "css/app.917104749980.css".into()),
        ("fonts/f.eot".into(), "fonts/f.4aaf23261cd3.eot".into()),
        ("img/logo.png".into(), "img/logo.0b75926ab9a9.png".into()),
        ("a b.css".into(), "a b.9dd4e461268c.css".into()),
    ]);
    let get = |name: &str| stored_name(&manifest, name, true).unwrap().unwrap();
    assert_eq!(get("css/app.css"), "css/app.917104749980.css");
    assert_eq!(get("fonts/f.eot?#iefix"), "fonts/f.4aaf23261cd3.eot?#iefix");
    assert_eq!(get("img/logo.png#x"), "img/logo.0b75926ab9a9.png#x");
    assert_eq!(get("img/logo.png?v=1"), "img/logo.0b75926ab9a9.png?v=1");
    assert_eq!(get("a%20b.css"), "a b.9dd4e461268c.css");
    assert_eq!(get("css/"), "css/");
    let err = stored_name(&manifest, "css/nope.css?v=1", true).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert_eq!(message(&err), "Missing staticfiles manifest entry for 'css/nope.css'");
    assert_eq!(stored_name(&manifest, "css/nope.css", false).unwrap(), None);
}
