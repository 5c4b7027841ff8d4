//! Standard-mode retries: bounded attempts, exponential backoff with full jitter, and a
//! shared retry quota so that an outage does not multiply the load on the server.
//!
//! What is worth retrying is decided by the caller, which knows the protocol: each attempt
//! returns [`Attempt::Done`] or [`Attempt::Retry`]. A request whose body cannot be sent
//! again must return `Done`.

use std::future::Future;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::Duration;

use tokio::time::Instant;

use crate::error::{Error, Result};

/// How many times to try and how long to wait between attempts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Total attempts, the first included (at least 1).
    pub max_attempts: u32,
    /// Backoff before the first retry is drawn from `0..base`, doubling each time.
    pub base_delay: Duration,
    /// Upper bound of any single backoff.
    pub max_backoff: Duration,
    /// Longest time the operation may spend retrying: no attempt starts, and no backoff
    /// waits, past it; `None` for no bound. An attempt in progress is bounded by the
    /// transport's timeouts instead (connecting, and the read timeout, which any byte moved
    /// resets), so a transfer that keeps moving is never cut by it.
    pub deadline: Option<Duration>,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 3,
            base_delay: Duration::from_millis(100),
            max_backoff: Duration::from_secs(20),
            deadline: Some(Duration::from_secs(300)),
        }
    }
}

impl RetryPolicy {
    /// The backoff before retry number `retry` (1 for the first retry): full jitter,
    /// uniform in `0..min(max_backoff, base * 2^(retry-1))`.
    pub fn backoff(&self, retry: u32) -> Duration {
        let exp = self
            .base_delay
            .saturating_mul(1u32 << (retry.saturating_sub(1)).min(20));
        let cap = exp.min(self.max_backoff);
        cap.mul_f64(fastrand::f64())
    }
}

/// What one attempt came to.
pub enum Attempt<T> {
    /// Finished, successfully or not: no further attempt.
    Done(Result<T>),
    /// Failed in a way another attempt may fix.
    Retry {
        /// The failure, returned if no attempt is left.
        error: Error,
        /// The server asked for this delay (`Retry-After`), or a correction needs none.
        delay: Option<Duration>,
        /// Whether the failure was a timeout (costs more of the quota).
        timeout: bool,
    },
}

const QUOTA_MAX: u32 = 500;
const RETRY_COST: u32 = 5;
const TIMEOUT_COST: u32 = 10;

/// A client-wide budget of retries (the AWS SDKs' standard mode): each retry spends tokens,
/// each success returns one; when the budget is spent, failures are returned at once.
#[derive(Debug)]
pub struct RetryQuota {
    tokens: AtomicU32,
    /// Requests sent again, for [`RetryQuota::retries`].
    retries: AtomicU64,
}

impl Default for RetryQuota {
    fn default() -> Self {
        RetryQuota {
            tokens: AtomicU32::new(QUOTA_MAX),
            retries: AtomicU64::new(0),
        }
    }
}

impl RetryQuota {
    fn acquire(&self, cost: u32) -> bool {
        self.tokens
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |t| t.checked_sub(cost))
            .is_ok()
    }

    fn release(&self, amount: u32) {
        let _ = self.tokens.fetch_update(Ordering::AcqRel, Ordering::Acquire, |t| {
            Some((t + amount).min(QUOTA_MAX))
        });
    }

    /// Tokens left.
    #[cfg(test)]
    pub(crate) fn available(&self) -> u32 {
        self.tokens.load(Ordering::Acquire)
    }

    /// Requests sent again so far (retries and resumed downloads).
    pub fn retries(&self) -> u64 {
        self.retries.load(Ordering::Relaxed)
    }

    /// Counts one request sent again.
    pub(crate) fn note_retry(&self) {
        self.retries.fetch_add(1, Ordering::Relaxed);
    }
}

/// Runs `attempt(n)` for n = 1, 2, ... until it is done, attempts run out, the quota is
/// spent or the next attempt would start past the policy's deadline, sleeping the backoff
/// between attempts. An error after several attempts, or stopped by the deadline, says how
/// many were made and for how long.
pub async fn run<T, F, Fut>(policy: &RetryPolicy, quota: &RetryQuota, mut attempt: F) -> Result<T>
where
    F: FnMut(u32) -> Fut,
    Fut: Future<Output = Attempt<T>>,
{
    let started = Instant::now();
    let mut n = 1;
    let mut spent = 0;
    loop {
        let outcome = attempt(n).await;
        match outcome {
            Attempt::Done(result) => {
                if result.is_ok() {
                    // A success pays back what its retries cost, or one token.
                    quota.release(spent.max(1));
                }
                return result.map_err(|e| e.with_attempts(n, started.elapsed()));
            }
            Attempt::Retry { error, delay, timeout } => {
                let cost = if timeout { TIMEOUT_COST } else { RETRY_COST };
                if n >= policy.max_attempts.max(1) {
                    return Err(error.with_attempts(n, started.elapsed()));
                }
                let wait = delay.unwrap_or_else(|| policy.backoff(n)).min(policy.max_backoff);
                if let Some(deadline) = policy.deadline
                    && started.elapsed() + wait >= deadline
                {
                    crate::trace::event!(warn, attempts = n, deadline = ?deadline, "operation deadline passed");
                    return Err(error.with_deadline(deadline).with_attempts(n, started.elapsed()));
                }
                if !quota.acquire(cost) {
                    return Err(error.with_attempts(n, started.elapsed()));
                }
                spent += cost;
                quota.note_retry();
                crate::trace::event!(
                    warn,
                    attempt = n,
                    next_in_ms = wait.as_millis() as u64,
                    reason = %error,
                    "retrying"
                );
                if !wait.is_zero() {
                    tokio::time::sleep(wait).await;
                }
                n += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    #[test]
    fn backoff_is_jittered_exponential_and_capped() {
        let p = RetryPolicy {
            max_attempts: 10,
            base_delay: Duration::from_millis(100),
            max_backoff: Duration::from_secs(1),
            deadline: None,
        };
        for _ in 0..200 {
            assert!(p.backoff(1) < Duration::from_millis(100));
            assert!(p.backoff(3) < Duration::from_millis(400));
            assert!(p.backoff(30) <= Duration::from_secs(1));
        }
        let spread: std::collections::HashSet<_> = (0..50).map(|_| p.backoff(4).as_micros()).collect();
        assert!(spread.len() > 10, "backoff must be random");
    }

    fn fast() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 3,
            base_delay: Duration::from_millis(1),
            max_backoff: Duration::from_millis(5),
            deadline: None,
        }
    }

    #[tokio::test]
    async fn stops_after_max_attempts_with_the_last_error() {
        let quota = RetryQuota::default();
        let mut calls = 0;
        let r: Result<()> = run(&fast(), &quota, |n| {
            calls += 1;
            async move {
                Attempt::Retry {
                    error: Error::new(ErrorKind::Transport, format!("attempt {n}")),
                    delay: None,
                    timeout: false,
                }
            }
        })
        .await;
        assert_eq!(calls, 3);
        assert!(r.unwrap_err().to_string().contains("attempt 3"));
        assert_eq!(quota.available(), QUOTA_MAX - 2 * RETRY_COST);
    }

    #[tokio::test]
    async fn success_after_retry_refills_the_quota() {
        let quota = RetryQuota::default();
        let r = run(&fast(), &quota, |n| async move {
            if n < 2 {
                Attempt::Retry {
                    error: Error::new(ErrorKind::Timeout, "t"),
                    delay: Some(Duration::ZERO),
                    timeout: true,
                }
            } else {
                Attempt::Done(Ok(n))
            }
        })
        .await;
        assert_eq!(r.unwrap(), 2);
        assert_eq!(quota.available(), QUOTA_MAX);
    }

    #[tokio::test]
    async fn an_empty_quota_stops_retrying() {
        let quota = RetryQuota::default();
        quota.tokens.store(3, Ordering::Release);
        let mut calls = 0;
        let _ = run(&fast(), &quota, |_| {
            calls += 1;
            async {
                Attempt::<()>::Retry {
                    error: Error::new(ErrorKind::Transport, "x"),
                    delay: None,
                    timeout: false,
                }
            }
        })
        .await;
        assert_eq!(calls, 1);
    }

    #[tokio::test(start_paused = true)]
    async fn the_deadline_stops_retrying_but_never_cuts_an_attempt() {
        let policy = RetryPolicy {
            max_attempts: 100,
            base_delay: Duration::from_millis(10),
            max_backoff: Duration::from_millis(10),
            deadline: Some(Duration::from_secs(5)),
        };
        let quota = RetryQuota::default();
        // Each attempt takes 2 s (a transfer moving bytes) and then fails: the third ends
        // at 6 s, past the deadline, and no fourth starts.
        let e = run(&policy, &quota, |_| async {
            tokio::time::sleep(Duration::from_secs(2)).await;
            Attempt::<()>::Retry {
                error: Error::new(ErrorKind::Transport, "reset"),
                delay: Some(Duration::ZERO),
                timeout: false,
            }
        })
        .await
        .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Transport, "{e}");
        assert_eq!(e.attempts(), Some(3));
        assert!(e.to_string().contains("after 3 attempts in 6.0"), "{e}");
        assert!(e.to_string().contains("deadline of 5s"), "{e}");
        // One attempt longer than the deadline runs to its end.
        let r = run(&policy, &quota, |_| async {
            tokio::time::sleep(Duration::from_secs(60)).await;
            Attempt::Done(Ok(7))
        })
        .await;
        assert_eq!(r.unwrap(), 7);
        // Attempts that run out say so too.
        let e = run(&fast(), &quota, |_| async {
            Attempt::<()>::Retry {
                error: Error::new(ErrorKind::Transport, "reset"),
                delay: None,
                timeout: false,
            }
        })
        .await
        .unwrap_err();
        assert_eq!((e.kind(), e.attempts()), (ErrorKind::Transport, Some(3)));
    }
}
