//! One notion of progress for the whole transport: the last moment a byte moved on a
//! connection, in either direction. The connection itself records it (reads and writes of
//! the socket, under TLS), so a request body sent in one large frame, a reply head and a
//! reply body are all measured the same way: a wait fails only when nothing moved for the
//! read timeout, however long the transfer takes.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll, ready};
use std::time::Duration;

// tokio's clock, as the timers that wait on these deadlines read it (paused in tests).
use tokio::time::{Instant, Sleep};

/// When a connection last moved a byte, and what its uplink looked like. Cheap to clone:
/// clones share the record.
#[derive(Clone)]
pub(crate) struct Activity(Arc<Record>);

struct Record {
    start: Instant,
    /// Milliseconds after `start` of the last byte moved.
    last_ms: AtomicU64,
    /// Bytes written since the connection opened.
    written: AtomicU64,
    /// `written` when a write of the current request first found the socket full, and
    /// when (milliseconds after `start`); `NONE` until then.
    blocked_at: AtomicU64,
    blocked_ms: AtomicU64,
}

const NONE: u64 = u64::MAX;

/// Where a request's uplink started on its connection.
#[derive(Debug, Clone, Copy)]
pub(crate) struct UplinkMark {
    written: u64,
}

impl Activity {
    pub(crate) fn new() -> Self {
        Activity(Arc::new(Record {
            start: Instant::now(),
            last_ms: AtomicU64::new(0),
            written: AtomicU64::new(0),
            blocked_at: AtomicU64::new(NONE),
            blocked_ms: AtomicU64::new(0),
        }))
    }

    fn now_ms(&self) -> u64 {
        self.0.start.elapsed().as_millis() as u64
    }

    /// A byte moved now.
    pub(crate) fn touch(&self) {
        self.0.last_ms.store(self.now_ms(), Ordering::Relaxed);
    }

    /// `n` bytes were written now.
    pub(crate) fn wrote(&self, n: usize) {
        self.touch();
        self.0.written.fetch_add(n as u64, Ordering::Relaxed);
    }

    /// A write found the socket's buffers full: the peer reads slower than we write.
    pub(crate) fn blocked(&self) {
        let written = self.0.written.load(Ordering::Relaxed);
        if self
            .0
            .blocked_at
            .compare_exchange(NONE, written, Ordering::Relaxed, Ordering::Relaxed)
            .is_ok()
        {
            self.0.blocked_ms.store(self.now_ms(), Ordering::Relaxed);
        }
    }

    /// A request starts using the connection.
    pub(crate) fn begin(&self) -> UplinkMark {
        self.0.blocked_at.store(NONE, Ordering::Relaxed);
        UplinkMark {
            written: self.0.written.load(Ordering::Relaxed),
        }
    }

    /// How long the bytes the system still holds for the peer need, once a request body
    /// has been handed over whole: its buffers filled with what was written before the
    /// first write found them full, and they drain at the pace writes went on since.
    /// `None` when the buffers never filled (the peer kept up).
    pub(crate) fn drain_time(&self, mark: UplinkMark) -> Option<Duration> {
        let blocked_at = self.0.blocked_at.load(Ordering::Relaxed);
        if blocked_at == NONE {
            return None;
        }
        let backlog = blocked_at.saturating_sub(mark.written);
        let after = self.0.written.load(Ordering::Relaxed).saturating_sub(blocked_at);
        let ms = self
            .0
            .last_ms
            .load(Ordering::Relaxed)
            .saturating_sub(self.0.blocked_ms.load(Ordering::Relaxed));
        if after == 0 || ms == 0 {
            return None;
        }
        Some(Duration::from_millis(backlog.saturating_mul(ms) / after))
    }

    fn last(&self) -> Instant {
        self.0.start + Duration::from_millis(self.0.last_ms.load(Ordering::Relaxed))
    }
}

/// Times out a wait once nothing has moved for `timeout`: neither on the connection
/// (when its [`Activity`] is known) nor for the waiter itself since the wait began.
pub(crate) struct IdleTimer {
    timeout: Duration,
    activity: Option<Activity>,
    /// When the current wait began.
    since: Instant,
    /// Armed lazily: a wait that progress keeps extending resets it only when it fires.
    sleep: Pin<Box<Sleep>>,
    waiting: bool,
    /// Extra time granted once, for bytes still on their way (see `Activity::drain_time`).
    grace: Duration,
}

impl IdleTimer {
    pub(crate) fn new(timeout: Duration, activity: Option<Activity>) -> Self {
        let now = Instant::now();
        IdleTimer {
            timeout,
            activity,
            since: now,
            sleep: Box::pin(tokio::time::sleep_until(now + timeout)),
            waiting: false,
            grace: Duration::ZERO,
        }
    }

    /// Watches this connection, with this timeout, from now on.
    pub(crate) fn watch(&mut self, timeout: Duration, activity: Option<Activity>) {
        self.timeout = timeout;
        self.activity = activity;
        self.grace = Duration::ZERO;
        self.since = Instant::now();
        self.waiting = true;
        self.sleep.as_mut().reset(self.since + self.timeout);
    }

    /// The waiter got something: the next wait starts afresh.
    pub(crate) fn progressed(&mut self) {
        self.waiting = false;
    }

    /// The timeout this timer applies.
    pub(crate) fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Grants the current wait this much more time, once.
    pub(crate) fn extend(&mut self, grace: Duration) {
        self.grace = grace;
    }

    fn deadline(&self) -> Instant {
        let last = self.activity.as_ref().map_or(self.since, |a| a.last().max(self.since));
        last + self.timeout + self.grace
    }

    /// Ready once the wait has been idle for the timeout. Call it whenever the waited-for
    /// future is pending.
    pub(crate) fn poll_idle(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        if !self.waiting {
            self.waiting = true;
            self.since = Instant::now();
        }
        loop {
            ready!(self.sleep.as_mut().poll(cx));
            let deadline = self.deadline();
            if deadline <= Instant::now() {
                return Poll::Ready(());
            }
            self.sleep.as_mut().reset(deadline);
        }
    }
}

use std::future::Future as _;

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn bytes_moving_keep_a_wait_alive_and_silence_ends_it() {
        let activity = Activity::new();
        let mut timer = IdleTimer::new(Duration::from_secs(2), Some(activity.clone()));
        let started = Instant::now();
        // A byte every second for ten seconds: never idle for two.
        let mover = {
            let activity = activity.clone();
            tokio::spawn(async move {
                for _ in 0..10 {
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    activity.touch();
                }
            })
        };
        std::future::poll_fn(|cx| timer.poll_idle(cx)).await;
        mover.await.unwrap();
        let took = started.elapsed();
        assert!(
            took >= Duration::from_secs(12) && took < Duration::from_secs(13),
            "{took:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_wait_counts_from_its_own_start_not_from_old_activity() {
        // A pooled connection idle for a minute: the new wait still has its full timeout.
        let activity = Activity::new();
        activity.touch();
        tokio::time::sleep(Duration::from_secs(60)).await;
        let mut timer = IdleTimer::new(Duration::from_secs(2), Some(activity));
        tokio::time::sleep(Duration::from_secs(30)).await;
        timer.progressed();
        let started = Instant::now();
        std::future::poll_fn(|cx| timer.poll_idle(cx)).await;
        assert_eq!(started.elapsed(), Duration::from_secs(2));
    }
}
