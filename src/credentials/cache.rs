//! A cache over any provider: temporary credentials are kept until shortly before they expire,
//! and refreshed by one caller at a time while the others wait for its result.
//!
//! - Credentials without an expiry are kept for good.
//! - Credentials are refreshed `refresh_window` (5 minutes) before their expiry, or half-way
//!   through their life when they were handed out for less than twice that.
//! - One refresh at a time: concurrent callers wait for it and share its outcome (a failure
//!   too, so a broken source is asked once, not once per waiting caller).
//! - A failed refresh while the cached credentials are still valid returns those, and the
//!   next attempt waits a few seconds (at most half their remaining life).

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use super::{BoxFuture, Credentials, ProvideCredentials};
use crate::error::{Error, ErrorKind, Result};
use crate::timestamp::now;

/// How long before expiry credentials are refreshed, by default.
pub const REFRESH_WINDOW: Duration = Duration::from_secs(5 * 60);

/// Pause after a failed refresh while the old credentials remain valid.
const RETRY_AFTER_FAILURE: Duration = Duration::from_secs(5);

#[derive(Default)]
struct State {
    credentials: Option<Credentials>,
    /// When to refresh; `None`: never (no expiry).
    refresh_at: Option<SystemTime>,
    /// No new attempt before this, after a failed one.
    retry_at: Option<SystemTime>,
    /// Counts finished refresh attempts, so that waiting callers know one happened.
    generation: u64,
    /// The kind and text of the last failed attempt, for the callers that waited on it.
    last_error: Option<(ErrorKind, String)>,
}

impl State {
    fn valid(&self, now: SystemTime) -> Option<&Credentials> {
        self.credentials.as_ref().filter(|c| c.expiry().is_none_or(|e| now < e))
    }

    /// Credentials that need no refresh now.
    fn current(&self, now: SystemTime) -> Option<Credentials> {
        let c = self.valid(now)?;
        let due = self.refresh_at.is_some_and(|r| now >= r);
        let resting = self.retry_at.is_some_and(|r| now < r);
        (!due || resting).then(|| c.clone())
    }
}

/// Caches what another provider yields (see the module docs for the rules).
pub struct CachedProvider {
    inner: Arc<dyn ProvideCredentials>,
    window: Duration,
    state: std::sync::Mutex<State>,
    refresh: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for CachedProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        f.debug_struct("CachedProvider")
            .field("inner", &self.inner)
            .field("refresh_window", &self.window)
            .field("cached", &state.credentials)
            .finish()
    }
}

impl CachedProvider {
    /// A cache over `inner`, refreshing 5 minutes before expiry.
    pub fn new(inner: Arc<dyn ProvideCredentials>) -> Self {
        CachedProvider {
            inner,
            window: REFRESH_WINDOW,
            state: std::sync::Mutex::default(),
            refresh: tokio::sync::Mutex::new(()),
        }
    }

    /// Refresh this long before expiry (default 5 minutes).
    pub fn with_refresh_window(mut self, window: Duration) -> Self {
        self.window = window;
        self
    }

    /// The provider behind the cache.
    pub fn inner(&self) -> &Arc<dyn ProvideCredentials> {
        &self.inner
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        // The state is always consistent between statements: a panic elsewhere cannot break it.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn refresh_at(&self, expiry: Option<SystemTime>, now: SystemTime) -> Option<SystemTime> {
        let expiry = expiry?;
        let life = expiry.duration_since(now).unwrap_or_default();
        Some(expiry - self.window.min(life / 2))
    }

    async fn load(&self) -> Result<Credentials> {
        let generation = {
            let state = self.state();
            if let Some(c) = state.current(now()) {
                return Ok(c);
            }
            state.generation
        };
        let _refreshing = self.refresh.lock().await;
        {
            let state = self.state();
            let now = now();
            if let Some(c) = state.current(now) {
                return Ok(c);
            }
            if state.generation != generation {
                // Someone refreshed while this caller waited: share the outcome.
                if let Some(c) = state.valid(now) {
                    return Ok(c.clone());
                }
                if let Some((kind, message)) = &state.last_error {
                    return Err(Error::new(*kind, message.clone()));
                }
            }
        }
        let result = self.inner.provide().await;
        let now = now();
        let mut state = self.state();
        state.generation += 1;
        match result {
            Ok(c) => {
                crate::trace::event!(
                    debug,
                    expires_in_s = c.expiry().and_then(|x| x.duration_since(now).ok()).map(|d| d.as_secs()),
                    "credentials refreshed"
                );
                state.refresh_at = self.refresh_at(c.expiry(), now);
                state.retry_at = None;
                state.last_error = None;
                state.credentials = Some(c.clone());
                Ok(c)
            }
            Err(e) => {
                crate::trace::event!(warn, error = %e, "refreshing credentials failed");
                state.last_error = Some((e.kind(), e.to_string()));
                let Some(old) = state.valid(now).cloned() else {
                    return Err(e);
                };
                let left = old
                    .expiry()
                    .and_then(|x| x.duration_since(now).ok())
                    .unwrap_or_default();
                state.retry_at = Some(now + RETRY_AFTER_FAILURE.min(left / 2));
                Ok(old)
            }
        }
    }
}

impl ProvideCredentials for CachedProvider {
    fn provide(&self) -> BoxFuture<'_, Result<Credentials>> {
        Box::pin(self.load())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// Hands out the scripted results in turn, counting calls; slow, so callers overlap.
    #[derive(Debug)]
    struct Script {
        calls: AtomicUsize,
        delay: Duration,
        results: Mutex<Vec<Result<Credentials, ErrorKind>>>,
    }

    impl Script {
        fn new(results: Vec<Result<Credentials, ErrorKind>>) -> Arc<Self> {
            Self::slow(results, Duration::from_millis(50))
        }

        fn slow(results: Vec<Result<Credentials, ErrorKind>>, delay: Duration) -> Arc<Self> {
            Arc::new(Script {
                calls: AtomicUsize::new(0),
                delay,
                results: Mutex::new(results),
            })
        }
    }

    impl ProvideCredentials for Script {
        fn provide(&self) -> BoxFuture<'_, Result<Credentials>> {
            Box::pin(async move {
                self.calls.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(self.delay).await;
                let mut r = self.results.lock().unwrap();
                let next = if r.len() > 1 { r.remove(0) } else { r[0].clone() };
                next.map_err(|k| Error::new(k, "scripted failure"))
            })
        }
    }

    fn creds(key: &str, life: Duration) -> Credentials {
        Credentials::new(key, "secret").with_expiry(now() + life)
    }

    #[tokio::test]
    async fn long_term_credentials_are_fetched_once() {
        let s = Script::new(vec![Ok(Credentials::new("A", "s"))]);
        let cache = CachedProvider::new(s.clone());
        for _ in 0..3 {
            assert_eq!(cache.provide().await.unwrap().access_key(), "A");
        }
        assert_eq!(s.calls.load(Ordering::SeqCst), 1);
    }

    // Paused time: the sleeps below advance tokio's clock, which the cache's clock follows,
    // at once; the callers still overlap (the scripted provider takes 50 ms of that time).
    #[tokio::test(start_paused = true)]
    async fn one_refresh_for_concurrent_callers() {
        let s = Script::new(vec![
            Ok(creds("SHORT", Duration::from_millis(400))),
            Ok(creds("LONG", Duration::from_secs(3600))),
        ]);
        let cache = Arc::new(CachedProvider::new(s.clone()));
        assert_eq!(cache.provide().await.unwrap().access_key(), "SHORT");
        assert_eq!(cache.provide().await.unwrap().access_key(), "SHORT");
        assert_eq!(s.calls.load(Ordering::SeqCst), 1);
        // Half-way through a short life, the credentials are due.
        tokio::time::sleep(Duration::from_millis(250)).await;
        let tasks: Vec<_> = (0..16)
            .map(|_| {
                let cache = cache.clone();
                tokio::spawn(async move { cache.provide().await.unwrap().access_key().to_owned() })
            })
            .collect();
        for t in tasks {
            assert_eq!(t.await.unwrap(), "LONG");
        }
        assert_eq!(s.calls.load(Ordering::SeqCst), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn a_failed_refresh_keeps_valid_credentials() {
        let s = Script::new(vec![
            Ok(creds("OLD", Duration::from_millis(1000))),
            Err(ErrorKind::Transport),
        ]);
        let cache = Arc::new(CachedProvider::new(s.clone()));
        assert_eq!(cache.provide().await.unwrap().access_key(), "OLD");
        tokio::time::sleep(Duration::from_millis(600)).await;
        // Due, the refresh fails, the old credentials still hold: every caller gets them from
        // one attempt.
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let cache = cache.clone();
                tokio::spawn(async move { cache.provide().await.unwrap().access_key().to_owned() })
            })
            .collect();
        for t in tasks {
            assert_eq!(t.await.unwrap(), "OLD");
        }
        assert_eq!(s.calls.load(Ordering::SeqCst), 2);
        // Once they expire, the failure is the caller's.
        tokio::time::sleep(Duration::from_millis(500)).await;
        let e = cache.provide().await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Transport);
    }

    #[tokio::test(start_paused = true)]
    async fn waiting_callers_share_a_failure() {
        let s = Script::slow(vec![Err(ErrorKind::Timeout)], Duration::from_millis(300));
        let cache = Arc::new(CachedProvider::new(s.clone()));
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let cache = cache.clone();
                tokio::spawn(async move { cache.provide().await.unwrap_err().kind() })
            })
            .collect();
        for t in tasks {
            assert_eq!(t.await.unwrap(), ErrorKind::Timeout);
        }
        assert_eq!(s.calls.load(Ordering::SeqCst), 1);
        // A later call tries again.
        let _ = cache.provide().await;
        assert_eq!(s.calls.load(Ordering::SeqCst), 2);
    }
}
