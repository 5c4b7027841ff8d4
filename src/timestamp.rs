//! RFC 3339 time stamps as S3 listings and credential documents write them, read into
//! `SystemTime` without a panic whatever the year (the `time` crate's own conversion may
//! panic where `SystemTime` cannot hold the date). Floor-neutral: `s3` and `credentials`
//! both read them.

use std::time::{Duration, SystemTime};

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// The wall clock the credential cache reads: `SystemTime::now()`, moved forward by as much
/// as tokio's clock runs ahead of the real one. In a program the two are the same clock (tokio
/// only moves its own under `test-util`, when a test pauses and advances it), so this is the
/// wall clock; a test that advances tokio's time moves expiries forward with it instead of
/// sleeping.
pub(crate) fn now() -> SystemTime {
    let ahead = tokio::time::Instant::now()
        .into_std()
        .saturating_duration_since(std::time::Instant::now());
    SystemTime::now() + ahead
}

/// `2026-01-02T03:04:05Z` (fractions and offsets allowed) as a `SystemTime`; `None` when
/// the text is not such a time stamp or the platform's clock cannot hold it.
pub(crate) fn parse_rfc3339(text: &str) -> Option<SystemTime> {
    let time = OffsetDateTime::parse(text.trim(), &Rfc3339).ok()?;
    let secs = time.unix_timestamp();
    let whole = if secs >= 0 {
        SystemTime::UNIX_EPOCH.checked_add(Duration::from_secs(secs.unsigned_abs()))
    } else {
        SystemTime::UNIX_EPOCH.checked_sub(Duration::from_secs(secs.unsigned_abs()))
    };
    whole?.checked_add(Duration::from_nanos(u64::from(time.nanosecond())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_stamps_and_extremes() {
        let t = parse_rfc3339("2026-01-02T03:04:05.5Z").unwrap();
        assert_eq!(
            t.duration_since(SystemTime::UNIX_EPOCH).unwrap(),
            Duration::new(1_767_323_045, 500_000_000)
        );
        assert_eq!(
            parse_rfc3339(" 2026-01-02T04:04:05+01:00 "),
            parse_rfc3339("2026-01-02T03:04:05Z")
        );
        let before = parse_rfc3339("1969-12-31T23:59:59.5Z").unwrap();
        assert_eq!(
            SystemTime::UNIX_EPOCH.duration_since(before).unwrap(),
            Duration::from_millis(500)
        );
        // The ends of what RFC 3339 can say: a time or None, never a panic.
        for text in [
            "0000-01-01T00:00:00Z",
            "0000-01-01T00:00:00+23:59",
            "9999-12-31T23:59:59.999999999Z",
            "9999-12-31T23:59:59-23:59",
        ] {
            let _ = parse_rfc3339(text);
        }
        for bad in ["", "yesterday", "2026-13-01T00:00:00Z", "2026-01-02 03:04:05"] {
            assert_eq!(parse_rfc3339(bad), None, "{bad}");
        }
    }
}
