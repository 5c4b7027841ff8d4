//! Python's `str` methods as Django's rules use them.

use unicode_general_category::{GeneralCategory, get_general_category};

/// `len()` of a Python string: code points.
pub(crate) fn len(s: &str) -> usize {
    s.chars().count()
}

/// Python's `s[:-n]` for `n > 0`: `s` without its last `n` code points.
pub(crate) fn drop_last_chars(s: &str, n: usize) -> &str {
    let keep = len(s).saturating_sub(n);
    s.char_indices().nth(keep).map_or(s, |(i, _)| &s[..i])
}

/// Python's `str.isspace()`: Unicode `White_Space` plus the separators U+001C..U+001F.
pub(crate) fn isspace(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// `str.strip()`.
#[cfg(feature = "manifest")]
pub(crate) fn strip(s: &str) -> &str {
    s.trim_matches(isspace)
}

/// Python's `\w` on `str`: a letter or number of any kind (general categories `L*`, `N*`),
/// or `_`. Combining marks and other connector punctuation are not word characters.
pub(crate) fn is_word(c: char) -> bool {
    use GeneralCategory::*;
    c == '_'
        || matches!(
            get_general_category(c),
            UppercaseLetter
                | LowercaseLetter
                | TitlecaseLetter
                | ModifierLetter
                | OtherLetter
                | DecimalNumber
                | LetterNumber
                | OtherNumber
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_whitespace_and_word_characters() {
        // Exactly the characters for which Python's str.isspace() is true.
        let spaces: Vec<char> = (0..=0x10ffff_u32)
            .filter_map(char::from_u32)
            .filter(|&c| isspace(c))
            .collect();
        let python: Vec<char> = "\t\n\u{b}\u{c}\r\u{1c}\u{1d}\u{1e}\u{1f} \u{85}\u{a0}\u{1680}\u{2000}\u{2001}\u{2002}\
             \u{2003}\u{2004}\u{2005}\u{2006}\u{2007}\u{2008}\u{2009}\u{200a}\u{2028}\u{2029}\u{202f}\u{205f}\u{3000}"
            .chars()
            .collect();
        assert_eq!(spaces, python);
        for c in ['a', 'Z', 'é', 'ǅ', 'ʰ', '日', '٠', '²', '½', 'Ⅻ', '_', '𝟘'] {
            assert!(is_word(c), "{c:?}");
        }
        for c in [
            '\u{301}', '\u{93e}', '‿', '-', '.', ' ', '\u{200b}', '😀', 'Ⓐ', '\0', '$',
        ] {
            assert!(!is_word(c), "{c:?}");
        }
    }

    #[test]
    fn slices_count_code_points() {
        assert_eq!(drop_last_chars("héllo", 2), "hél");
        assert_eq!(drop_last_chars("ab", 5), "");
    }
}
