//! Per-token rate limits: a token bucket per key.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

/// The most keys remembered; beyond, refilled buckets are forgotten.
pub const MAX_KEYS: usize = 100_000;

/// Token buckets by key (a token id).
#[derive(Debug)]
pub struct RateLimiter {
    burst: f64,
    per_second: f64,
    buckets: Mutex<HashMap<String, (f64, Instant)>>,
}

impl RateLimiter {
    /// Up to `burst` requests at once, refilled at `per_second`.
    pub fn new(burst: u32, per_second: f64) -> Self {
        RateLimiter {
            burst: f64::from(burst.max(1)),
            per_second: per_second.max(0.001),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one request for `key` at `now`; `Err(seconds)` to wait when
    /// the bucket is empty.
    pub fn check_at(&self, key: &str, now: Instant) -> Result<(), u64> {
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if buckets.len() >= MAX_KEYS {
            // Keys are chosen by clients: forget those whose bucket has
            // refilled, which is the same as never having seen them.
            let (burst, rate) = (self.burst, self.per_second);
            buckets.retain(|_, (level, last)| {
                *level + now.saturating_duration_since(*last).as_secs_f64() * rate < burst
            });
        }
        let (level, last) = buckets.entry(key.to_string()).or_insert((self.burst, now));
        let elapsed = now.saturating_duration_since(*last).as_secs_f64();
        *level = (*level + elapsed * self.per_second).min(self.burst);
        *last = now;
        if *level >= 1.0 {
            *level -= 1.0;
            Ok(())
        } else {
            Err(((1.0 - *level) / self.per_second).ceil().max(1.0) as u64)
        }
    }

    /// [`Self::check_at`] now.
    pub fn check(&self, key: &str) -> Result<(), u64> {
        self.check_at(key, Instant::now())
    }

    /// Whether `key` has a request left now, without taking it.
    pub fn peek(&self, key: &str) -> Result<(), u64> {
        let buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        let Some((level, last)) = buckets.get(key) else {
            return Ok(());
        };
        let elapsed = Instant::now()
            .saturating_duration_since(*last)
            .as_secs_f64();
        let level = (level + elapsed * self.per_second).min(self.burst);
        if level >= 1.0 {
            Ok(())
        } else {
            Err(((1.0 - level) / self.per_second).ceil().max(1.0) as u64)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn bursts_then_refills() {
        let r = RateLimiter::new(3, 1.0);
        let t = Instant::now();
        for _ in 0..3 {
            assert_eq!(r.check_at("a", t), Ok(()));
        }
        assert_eq!(r.check_at("a", t), Err(1));
        assert_eq!(r.check_at("b", t), Ok(()), "keys are separate");
        assert_eq!(r.check_at("a", t + Duration::from_millis(1100)), Ok(()));
        assert!(r.check_at("a", t + Duration::from_millis(1200)).is_err());
    }

    #[test]
    fn memory_is_bounded() {
        let r = RateLimiter::new(2, 1.0);
        let t = Instant::now();
        for i in 0..MAX_KEYS + 10 {
            r.check_at(&i.to_string(), t).unwrap();
        }
        // Later, all those buckets have refilled and are forgotten.
        r.check_at("x", t + Duration::from_secs(5)).unwrap();
        assert!(r.buckets.lock().unwrap().len() < 100);
    }
}
