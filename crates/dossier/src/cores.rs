//! Which cores a one-shot command's threads run on.
//!
//! sqlx runs each SQLite connection on a thread of its own, and every
//! statement is a hand-off to that thread and back. When the two threads sit
//! on different cores, each hand-off has to wake an idle core; on a virtual
//! machine that is slow (measured on the 2-core development VM: 50 µs per
//! trivial statement across cores, 4 µs on one core). One-shot commands
//! (`demo`, `audit verify`, …) therefore keep their async thread — and the
//! database threads it starts, which inherit its core — on one core, and
//! leave the other cores to the blocking pool, where the demo generates its
//! next batch. The server is not pinned: it serves many requests at once.

use core_affinity::CoreId;

/// Pin the calling thread to the first core it may use; returns what to run
/// at the start of each blocking-pool thread so it keeps off that core. Does
/// nothing on a single core or where affinity cannot be read.
pub fn keep_caller_on_one_core() -> Option<impl Fn() + Send + Sync + 'static> {
    let cores = core_affinity::get_core_ids()?;
    let (&caller, others) = cores.split_first()?;
    let other: CoreId = *others.last()?;
    core_affinity::set_for_current(caller).then_some(move || {
        core_affinity::set_for_current(other);
    })
}
