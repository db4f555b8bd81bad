//! When to try again after the server went away: a pure backoff policy. Delays double from the
//! server's `retry:` hint (or one second) up to a cap, and the caller supplies any jitter, so the
//! schedule is deterministic under test.

use crate::core::session::Millis;

/// The reconnection schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// The first delay when the server gave no `retry:` hint.
    pub initial: Millis,
    /// No delay is longer than this.
    pub max: Millis,
    /// After this many failed attempts in a row the console stops and says so.
    pub max_attempts: u32,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff { initial: 1_000, max: 30_000, max_attempts: 40 }
    }
}

impl Backoff {
    /// The wait before attempt number `attempt` (0 for the first retry), or `None` when it is
    /// time to give up. `retry_hint` is the last `retry:` value the server sent; `jitter` (0..1000
    /// from the caller's randomness) spreads reconnecting clients apart by up to that many ms.
    pub fn delay(&self, attempt: u32, retry_hint: Option<u32>, jitter: Millis) -> Option<Millis> {
        if attempt >= self.max_attempts {
            return None;
        }
        let base = retry_hint.map(Millis::from).unwrap_or(self.initial).max(1);
        let factor = 1u64.checked_shl(attempt.min(20)).unwrap_or(u64::MAX);
        Some(base.saturating_mul(factor).min(self.max).saturating_add(jitter.min(1_000)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_double_up_to_the_cap_then_give_up() {
        let b = Backoff::default();
        let delays: Vec<_> = (0..7).map(|n| b.delay(n, None, 0)).collect();
        assert_eq!(delays, [1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000].map(Some).to_vec());
        assert_eq!(b.delay(40, None, 0), None);
    }

    #[test]
    fn the_servers_retry_hint_sets_the_base() {
        let b = Backoff::default();
        assert_eq!(b.delay(0, Some(250), 0), Some(250));
        assert_eq!(b.delay(2, Some(250), 0), Some(1_000));
        assert_eq!(b.delay(0, Some(0), 0), Some(1), "a zero hint does not spin");
        assert_eq!(b.delay(0, Some(u32::MAX), 0), Some(30_000));
    }

    #[test]
    fn jitter_is_bounded_and_huge_attempts_do_not_overflow() {
        let b = Backoff { max_attempts: u32::MAX, ..Backoff::default() };
        assert_eq!(b.delay(3, None, 400), Some(8_400));
        assert_eq!(b.delay(3, None, 99_999), Some(9_000));
        assert_eq!(b.delay(10_000, None, 0), Some(30_000));
    }
}
