//! The time source of operations: the system clock, or a fixed time in tests.

use anchorage_ca_core::Time;
use chrono::{DateTime, SubsecRound, Utc};

/// Where operations get "now" from.
#[derive(Clone, Copy, Debug, Default)]
pub enum Clock {
    /// The system clock.
    #[default]
    System,
    /// A fixed time (tests, and `--now` for rehearsing reissue schedules).
    Fixed(DateTime<Utc>),
}

impl Clock {
    /// The current time, in whole seconds (what certificates can encode).
    pub fn now(&self) -> Time {
        let t = match self {
            Clock::System => Utc::now(),
            Clock::Fixed(t) => *t,
        };
        Time::new(t.trunc_subsecs(0))
    }
}
