//! A runtime-independent deadline for reading an error body: one shared timer thread wakes the
//! task when the deadline passes, so a body that stalls can never hold a response forever. (The
//! crate does not depend on any async runtime, hence no `tokio::time`.)

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::{Arc, Condvar, LazyLock, Mutex};
use std::task::{Context, Waker};
use std::time::{Duration, Instant};

/// Pending wake-ups beyond this are refused (the deadline then counts as passed), so the timer's
/// memory stays bounded under a flood of error responses.
const MAX_PENDING: usize = 65_536;

struct Entry {
    at: Instant,
    seq: u64,
    waker: Waker,
}

impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}
impl Eq for Entry {}
impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Entry {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.at, self.seq).cmp(&(other.at, other.seq))
    }
}

#[derive(Default)]
struct State {
    heap: BinaryHeap<Reverse<Entry>>,
    seq: u64,
}

struct Timer {
    state: Mutex<State>,
    cond: Condvar,
}

static TIMER: LazyLock<Option<Arc<Timer>>> = LazyLock::new(|| {
    let timer = Arc::new(Timer {
        state: Mutex::new(State::default()),
        cond: Condvar::new(),
    });
    let worker = Arc::clone(&timer);
    std::thread::Builder::new()
        .name("safeguard-deadline".into())
        .spawn(move || run(&worker))
        .ok()
        .map(|_| timer)
});

fn run(timer: &Timer) {
    let mut state = timer.state.lock().unwrap_or_else(|e| e.into_inner());
    loop {
        let now = Instant::now();
        let mut due = Vec::new();
        while state.heap.peek().is_some_and(|Reverse(e)| e.at <= now) {
            if let Some(Reverse(e)) = state.heap.pop() {
                due.push(e.waker);
            }
        }
        if !due.is_empty() {
            drop(state);
            due.into_iter().for_each(Waker::wake);
            state = timer.state.lock().unwrap_or_else(|e| e.into_inner());
            continue;
        }
        state = match state
            .heap
            .peek()
            .map(|Reverse(e)| e.at.saturating_duration_since(now))
        {
            Some(wait) => {
                timer
                    .cond
                    .wait_timeout(state, wait)
                    .unwrap_or_else(|e| e.into_inner())
                    .0
            }
            None => timer.cond.wait(state).unwrap_or_else(|e| e.into_inner()),
        };
    }
}

/// A point in time after which a body read gives up.
#[derive(Debug)]
pub(crate) struct Deadline {
    at: Instant,
    registered: Option<Waker>,
}

impl Deadline {
    pub(crate) fn after(timeout: Duration) -> Self {
        let now = Instant::now();
        Self {
            at: now.checked_add(timeout).unwrap_or(now),
            registered: None,
        }
    }

    /// True once the deadline has passed; otherwise arranges for the task to be woken then.
    pub(crate) fn expired(&mut self, cx: &mut Context<'_>) -> bool {
        if Instant::now() >= self.at {
            return true;
        }
        if self
            .registered
            .as_ref()
            .is_some_and(|w| w.will_wake(cx.waker()))
        {
            return false;
        }
        let Some(timer) = TIMER.as_ref() else {
            return true;
        };
        let mut state = timer.state.lock().unwrap_or_else(|e| e.into_inner());
        if state.heap.len() >= MAX_PENDING {
            return true;
        }
        state.seq = state.seq.wrapping_add(1);
        let seq = state.seq;
        let earliest = state.heap.peek().is_none_or(|Reverse(e)| self.at < e.at);
        state.heap.push(Reverse(Entry {
            at: self.at,
            seq,
            waker: cx.waker().clone(),
        }));
        drop(state);
        if earliest {
            timer.cond.notify_one();
        }
        self.registered = Some(cx.waker().clone());
        false
    }
}
