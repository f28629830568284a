//! The write gate: write transactions of one process take turns here
//! before they ask SQLite for its write lock.
//!
//! SQLite lets one writer in at a time and makes the others poll its busy
//! handler, which sleeps up to 100 ms between tries: under many concurrent
//! writers that sleep, not the work, sets the latency. Connections of one
//! process share a gate, so a waiting writer is woken the moment the
//! previous one ends, in arrival order. Other processes (CLI commands
//! beside `serve`) still meet at SQLite's lock.

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex};

/// A fair lock for the write transactions of one process.
#[derive(Debug, Default)]
pub struct WriteGate {
    state: Mutex<GateState>,
    turn: Condvar,
    /// The group commit of the connections that share this gate.
    pub(crate) durable: crate::durable::GroupSync,
}

#[derive(Debug, Default)]
struct GateState {
    held: bool,
    next_ticket: u64,
    waiting: VecDeque<u64>,
}

/// Holds a [`WriteGate`] until dropped.
#[derive(Debug)]
pub struct GateGuard {
    gate: Arc<WriteGate>,
}

impl WriteGate {
    /// Waits for the gate, first come first served, and holds it until
    /// the guard is dropped.
    pub fn enter(self: &Arc<Self>) -> GateGuard {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let ticket = state.next_ticket;
        state.next_ticket += 1;
        state.waiting.push_back(ticket);
        while state.held || state.waiting.front() != Some(&ticket) {
            state = self.turn.wait(state).unwrap_or_else(|p| p.into_inner());
        }
        state.waiting.pop_front();
        state.held = true;
        GateGuard { gate: self.clone() }
    }
}

impl Drop for GateGuard {
    fn drop(&mut self) {
        let mut state = self.gate.state.lock().unwrap_or_else(|p| p.into_inner());
        state.held = false;
        drop(state);
        self.gate.turn.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Writers pass one at a time and in the order they arrived.
    #[test]
    fn one_at_a_time_in_arrival_order() {
        let gate = Arc::new(WriteGate::default());
        let order = Arc::new(Mutex::new(Vec::new()));
        let first = gate.enter();
        let mut threads = Vec::new();
        for i in 0..8 {
            let (g, order) = (gate.clone(), order.clone());
            threads.push(std::thread::spawn(move || {
                let _g = g.enter();
                order.lock().unwrap().push(i);
            }));
            // Let thread i queue before thread i + 1.
            while gate.state.lock().unwrap().waiting.len() < i + 1 {
                std::thread::yield_now();
            }
        }
        drop(first);
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(*order.lock().unwrap(), (0..8).collect::<Vec<_>>());
    }
}
