//! `posixpath` and `pathlib` as Django calls them, on `/` only.

/// `posixpath.normpath`.
pub(crate) fn normpath(path: &str) -> String {
    if path.is_empty() {
        return ".".to_owned();
    }
    let initial_slashes = if path.starts_with("//") && !path.starts_with("///") {
        2
    } else if path.starts_with('/') {
        1
    } else {
        0
    };
    let mut comps: Vec<&str> = Vec::new();
    for comp in path.split('/') {
        if comp.is_empty() || comp == "." {
            continue;
        }
        if comp != ".." || (initial_slashes == 0 && comps.is_empty()) || comps.last() == Some(&"..") {
            comps.push(comp);
        } else {
            comps.pop();
        }
    }
    let mut out = "/".repeat(initial_slashes);
    out.push_str(&comps.join("/"));
    if out.is_empty() { ".".to_owned() } else { out }
}

/// `posixpath.join(a, b)`.
pub(crate) fn join(a: &str, b: &str) -> String {
    if b.starts_with('/') {
        b.to_owned()
    } else if a.is_empty() || a.ends_with('/') {
        format!("{a}{b}")
    } else {
        format!("{a}/{b}")
    }
}

/// `posixpath.split`: (head, tail); trailing slashes are stripped from the head unless it is
/// all slashes.
pub(crate) fn split(path: &str) -> (&str, &str) {
    let i = path.rfind('/').map_or(0, |i| i + 1);
    let (head, tail) = path.split_at(i);
    if !head.is_empty() && head.bytes().any(|b| b != b'/') {
        (head.trim_end_matches('/'), tail)
    } else {
        (head, tail)
    }
}

/// `posixpath.dirname`.
#[cfg(feature = "manifest")]
pub(crate) fn dirname(path: &str) -> &str {
    split(path).0
}

/// `posixpath.basename`.
pub(crate) fn basename(path: &str) -> &str {
    path.rfind('/').map_or(path, |i| &path[i + 1..])
}

/// `posixpath.splitext` of a file name: the last dot starts the extension, unless only dots
/// precede it (`.bashrc`, `..a` have none).
pub(crate) fn splitext(file: &str) -> (&str, &str) {
    let start = file.rfind('/').map_or(0, |i| i + 1);
    match file.rfind('.') {
        Some(dot) if dot >= start && file[start..dot].bytes().any(|b| b != b'.') => file.split_at(dot),
        _ => (file, ""),
    }
}

/// `".." in pathlib.PurePosixPath(path).parts`.
pub(crate) fn has_parent_part(path: &str) -> bool {
    path.split('/').any(|part| part == "..")
}

/// `"".join(pathlib.PurePath(file).suffixes)`: every suffix (`arch.tar.gz` → `.tar.gz`);
/// none when the name ends with a dot; leading dots do not start one (`.a.b` → `.b`).
pub(crate) fn all_suffixes(file: &str) -> &str {
    if file.ends_with('.') {
        return "";
    }
    let stripped = file.trim_start_matches('.');
    stripped.find('.').map_or("", |i| &stripped[i..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn posix_paths() {
        assert_eq!(normpath(""), ".");
        assert_eq!(normpath("///a//b/"), "/a/b");
        assert_eq!(normpath("//a/../.."), "//");
        assert_eq!(normpath("../../a"), "../../a");
        assert_eq!(normpath("/../a"), "/a");
        assert_eq!(split("a/b"), ("a", "b"));
        assert_eq!(split("a//b"), ("a", "b"));
        assert_eq!(split("//b"), ("//", "b"));
        assert_eq!(split("b"), ("", "b"));
        assert_eq!(split("a/"), ("a", ""));
        assert_eq!(join("", "x"), "x");
        assert_eq!(join("/", "x"), "/x");
        assert_eq!(join("a", "x"), "a/x");
        assert_eq!(join("a", "/x"), "/x");
        assert_eq!(splitext("a.tar.gz"), ("a.tar", ".gz"));
        assert_eq!(splitext(".bashrc"), (".bashrc", ""));
        assert_eq!(splitext("..a"), ("..a", ""));
        assert_eq!(splitext("..a.b"), ("..a", ".b"));
        assert_eq!(splitext("a."), ("a", "."));
        assert_eq!(splitext("..."), ("...", ""));
        assert_eq!(splitext("noext"), ("noext", ""));
        assert_eq!(all_suffixes("arch.tar.gz"), ".tar.gz");
        assert_eq!(all_suffixes("a."), "");
        assert_eq!(all_suffixes(".hidden.txt"), ".txt");
        assert_eq!(all_suffixes(".hidden"), "");
        assert_eq!(all_suffixes("..hidden"), "");
        assert_eq!(all_suffixes("a..b"), "..b");
        assert_eq!(all_suffixes("my file.tar .gz"), ".tar .gz");
        assert_eq!(all_suffixes("trail.txt  "), ".txt  ");
    }

    #[test]
    fn posix_paths_as_the_manifest_uses_them() {
        let normalized: Vec<String> = ["", "//a/../b", "///a", "a/../../b", "/../a", "./a/./b/", "a//b"]
            .iter()
            .map(|p| normpath(p))
            .collect();
        assert_eq!(normalized, [".", "//b", "/a", "../b", "/a", "a/b", "a/b"]);
        #[cfg(feature = "manifest")]
        assert_eq!((dirname("a/b/c"), dirname("c"), dirname("/c")), ("a/b", "", "/"));
        assert_eq!(join("css", "../img/x.png"), "css/../img/x.png");
        assert_eq!(splitext("..x"), ("..x", ""));
        assert_eq!(splitext("dir.d/file"), ("dir.d/file", ""));
        assert_eq!(splitext("a/.b"), ("a/.b", ""));
        assert_eq!(splitext("a/b.c"), ("a/b", ".c"));
    }
}
