//! Running independent pieces of work on several threads with results in a
//! fixed order, for synthesis (stacks are independent once the references
//! between them are planned) and for programs that build their stacks.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};

/// `f` applied to every item, on at most `threads` threads (the calling
/// thread is one of them), the results in the order of `items`.
///
/// Items are handed out one at a time to whichever thread is free, so a
/// large item does not hold up the small ones behind it. With `threads`
/// at most 1, or a single item, everything runs on the calling thread. A
/// panic in `f` is raised again on the calling thread.
///
/// ```
/// use khs_core::parallel::map_in_order;
/// let squares = map_in_order((1..=5).collect(), 2, |n: u32| n * n);
/// assert_eq!(squares, [1, 4, 9, 16, 25]);
/// ```
pub fn map_in_order<T, R, F>(items: Vec<T>, threads: usize, f: F) -> Vec<R>
where
    T: Send,
    R: Send,
    F: Fn(T) -> R + Sync,
{
    let threads = threads.min(items.len());
    if threads <= 1 {
        return items.into_iter().map(f).collect();
    }
    let count = items.len();
    let slots: Vec<Mutex<Option<T>>> = items.into_iter().map(|t| Mutex::new(Some(t))).collect();
    let next = AtomicUsize::new(0);
    let work = || {
        let mut done = Vec::new();
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            let Some(slot) = slots.get(i) else {
                return done;
            };
            let item = slot.lock().unwrap_or_else(PoisonError::into_inner).take();
            if let Some(item) = item {
                done.push((i, f(item)));
            }
        }
    };
    let mut results: Vec<(usize, R)> = std::thread::scope(|scope| {
        let helpers: Vec<_> = (1..threads).map(|_| scope.spawn(work)).collect();
        let mut all = work();
        for helper in helpers {
            match helper.join() {
                Ok(done) => all.extend(done),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        all
    });
    debug_assert_eq!(results.len(), count);
    results.sort_unstable_by_key(|(i, _)| *i);
    results.into_iter().map(|(_, r)| r).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_keep_the_order_of_the_items_for_any_number_of_threads() {
        let items: Vec<u64> = (0..200).collect();
        let expected: Vec<u64> = items.iter().map(|n| n * 3).collect();
        for threads in [0, 1, 2, 3, 8, 500] {
            let got = map_in_order(items.clone(), threads, |n| {
                // Uneven work, so that threads finish out of order.
                if n % 7 == 0 {
                    std::thread::sleep(std::time::Duration::from_micros(200));
                }
                n * 3
            });
            assert_eq!(got, expected, "{threads} threads");
        }
    }

    #[test]
    fn work_runs_on_more_than_one_thread_when_asked() {
        let ids = map_in_order((0..16).collect::<Vec<u32>>(), 2, |_| {
            std::thread::sleep(std::time::Duration::from_millis(2));
            std::thread::current().id()
        });
        let distinct: std::collections::BTreeSet<String> =
            ids.iter().map(|id| format!("{id:?}")).collect();
        assert_eq!(distinct.len(), 2, "{distinct:?}");
    }

    #[test]
    fn a_panic_in_the_work_reaches_the_caller() {
        let r = std::panic::catch_unwind(|| {
            map_in_order(vec![1, 2, 3, 4], 2, |n: i32| {
                assert!(n != 3, "three");
                n
            })
        });
        assert!(r.is_err());
    }
}
