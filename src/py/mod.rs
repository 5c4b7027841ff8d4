//! Python's string and path helpers that Django's rules are written in, reproduced where
//! the crate needs Django's exact answers. Floor-neutral: any floor may use them.
//!
//! One room per Python module: `text` (`str` methods), `path` (`posixpath`, `pathlib`),
//! `url` (`urllib.parse`), `fnmatch`.

mod fnmatch;
mod path;
mod text;
// Only the static-file manifest reads URLs.
#[cfg(feature = "manifest")]
mod url;

pub(crate) use fnmatch::fnmatchcase;
#[cfg(feature = "manifest")]
pub(crate) use path::dirname;
pub(crate) use path::{all_suffixes, basename, has_parent_part, join, normpath, split, splitext};
#[cfg(feature = "manifest")]
pub(crate) use text::strip;
pub(crate) use text::{drop_last_chars, is_word, isspace, len};
#[cfg(feature = "manifest")]
pub(crate) use url::{unquote, urldefrag, urlsplit, urlunsplit};
