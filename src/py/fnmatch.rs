//! `fnmatch.fnmatchcase`, for collectstatic's ignore patterns.

/// One piece of a shell pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    /// `*`: any run of characters, `/` included (fnmatch knows no path separators).
    Star,
    /// `?`: any one character.
    Any,
    /// `[...]` or `[!...]`: one character of (or not of) the ranges.
    Class { negated: bool, ranges: Vec<(char, char)> },
    /// Any other character, itself.
    Char(char),
}

fn tokens(pattern: &str) -> Vec<Token> {
    let chars: Vec<char> = pattern.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '*' => {
                // Runs of stars are one star.
                if out.last() != Some(&Token::Star) {
                    out.push(Token::Star);
                }
                i += 1;
            }
            '?' => {
                out.push(Token::Any);
                i += 1;
            }
            '[' => {
                // As fnmatch.translate: `!` negates, a `]` right after the opening (or after
                // `!`) is a member, and a class that never closes is a literal `[`.
                let mut j = i + 1;
                if chars.get(j) == Some(&'!') {
                    j += 1;
                }
                if chars.get(j) == Some(&']') {
                    j += 1;
                }
                while j < chars.len() && chars[j] != ']' {
                    j += 1;
                }
                if j >= chars.len() {
                    out.push(Token::Char('['));
                    i += 1;
                    continue;
                }
                let mut body = &chars[i + 1..j];
                let negated = body.first() == Some(&'!');
                if negated {
                    body = &body[1..];
                }
                let mut ranges = Vec::new();
                let mut k = 0;
                while k < body.len() {
                    if k + 2 < body.len() && body[k + 1] == '-' {
                        // A range whose ends are the wrong way round holds nothing.
                        if body[k] <= body[k + 2] {
                            ranges.push((body[k], body[k + 2]));
                        }
                        k += 3;
                    } else {
                        ranges.push((body[k], body[k]));
                        k += 1;
                    }
                }
                out.push(Token::Class { negated, ranges });
                i = j + 1;
            }
            c => {
                out.push(Token::Char(c));
                i += 1;
            }
        }
    }
    out
}

impl Token {
    /// Whether this one-character token takes `c`.
    fn takes(&self, c: char) -> bool {
        match self {
            Token::Star => false,
            Token::Any => true,
            Token::Char(x) => *x == c,
            Token::Class { negated, ranges } => ranges.iter().any(|(lo, hi)| (*lo..=*hi).contains(&c)) != *negated,
        }
    }
}

/// Python's `fnmatch.fnmatchcase` (what Django's `matches_patterns` calls): `*`, `?`,
/// `[seq]` and `[!seq]`, case-sensitive, the whole name. Time is at most the product of the
/// two lengths: a star never backtracks further than the star before it, so no pattern
/// takes exponential time.
pub(crate) fn fnmatchcase(name: &str, pattern: &str) -> bool {
    let p = tokens(pattern);
    let n: Vec<char> = name.chars().collect();
    let (mut pi, mut ni) = (0, 0);
    // The last star seen, and where in the name its run now ends.
    let mut star: Option<(usize, usize)> = None;
    while ni < n.len() {
        match p.get(pi) {
            Some(Token::Star) => {
                star = Some((pi, ni));
                pi += 1;
            }
            Some(t) if t.takes(n[ni]) => {
                pi += 1;
                ni += 1;
            }
            _ => match star {
                // The last star takes one more character, and the rest is tried again.
                Some((sp, sn)) => {
                    star = Some((sp, sn + 1));
                    pi = sp + 1;
                    ni = sn + 1;
                }
                None => return false,
            },
        }
    }
    p[pi..].iter().all(|t| *t == Token::Star)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnmatch_as_python() {
        // Answers of Python 3.11's fnmatch.fnmatchcase.
        let cases = [
            ("CVS", "CVS", true),
            ("cvs", "CVS", false),
            (".hidden", ".*", true),
            ("a.hidden", ".*", false),
            ("x~", "*~", true),
            ("css/app.css", "*.css", true),
            ("css/app.css", "css/*", true),
            ("app.css", "css/*", false),
            ("abc", "a?c", true),
            ("ac", "a?c", false),
            ("a/c", "a?c", true),
            ("b", "[abc]", true),
            ("d", "[abc]", false),
            ("d", "[!abc]", true),
            ("]", "[]]", true),
            ("a", "[!]]", true),
            ("]", "[!]]", false),
            ("[", "[", true),
            ("[a", "[a", true),
            ("5", "[0-9]", true),
            ("-", "[a-]", true),
            ("b", "[z-a]", false),
            ("", "*", true),
            ("", "", true),
            ("a", "", false),
            ("aaa", "a*a*a", true),
            ("aa", "a*a*a", false),
            ("x.min.js", "*.min.*", true),
        ];
        for (name, pattern, expected) in cases {
            assert_eq!(fnmatchcase(name, pattern), expected, "{name:?} {pattern:?}");
        }
    }

    #[test]
    fn stars_never_take_exponential_time() {
        let name = "a".repeat(5_000);
        let pattern = format!("{}b", "*a".repeat(100));
        let started = std::time::Instant::now();
        assert!(!fnmatchcase(&name, &pattern));
        // Quadratic at worst: well under a second even unoptimised.
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
    }
}
