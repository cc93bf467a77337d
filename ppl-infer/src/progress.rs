//! Progress display: one indicatif bar per chain (draws/s, divergences, step size).
//!
//! Chains never touch the terminal. Each chain stores its iteration count, divergence
//! count and current step size in relaxed atomics after every iteration (a few
//! nanoseconds); one display thread wakes every 100 ms, reads them and updates the bars.
//! The bars appear only once sampling has lasted [`SHOW_AFTER`], so that short runs (eight
//! schools takes ~40 ms) pay nothing for terminal output. The display never influences
//! sampling, so traces are bit-identical with it on or off.
//! It is shown only when stderr is a terminal (unless forced) and can be switched off
//! with [`Nuts::progress`](crate::Nuts::progress).

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;
use std::thread::Thread;
use std::time::{Duration, Instant};

/// How often the display thread refreshes the bars.
pub const REFRESH: Duration = Duration::from_millis(100);

/// Runs shorter than this show no bars at all.
pub const SHOW_AFTER: Duration = Duration::from_millis(300);

/// What one chain reports, written by the chain's thread and read by the display's.
/// Aligned to its own cache lines, so that chains running on different cores never write
/// to a shared line (false sharing would cost more than the whole display).
#[derive(Debug, Default)]
#[repr(align(128))]
pub(crate) struct ChainProgress {
    iterations: AtomicU64,
    divergences: AtomicU64,
    step_size: AtomicU64,
}

impl ChainProgress {
    /// Records that iteration `iteration` (0-based, warm-up included) finished.
    #[inline]
    pub fn record(&self, iteration: usize, diverged: bool, step_size: f64) {
        self.iterations
            .store(iteration as u64 + 1, Ordering::Relaxed);
        if diverged {
            self.divergences.fetch_add(1, Ordering::Relaxed);
        }
        self.step_size.store(step_size.to_bits(), Ordering::Relaxed);
    }

    /// Divergences are counted after warm-up only: forget warm-up's.
    pub fn end_warmup(&self) {
        self.divergences.store(0, Ordering::Relaxed);
    }
}

/// The bars of every chain, once shown.
struct Bars {
    _multi: MultiProgress,
    bars: Vec<ProgressBar>,
}

impl Bars {
    fn new(chains: &[ChainProgress], total: u64, elapsed: Duration) -> Self {
        let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr_with_hz(10));
        let style = ProgressStyle::with_template(
            "chain {prefix:>2} {bar:24.cyan/blue} {pos:>6}/{len:6} {per_sec:>12} eta {eta:>4} {msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
        let bars = chains
            .iter()
            .enumerate()
            .map(|(c, state)| {
                let position = state.iterations.load(Ordering::Relaxed);
                let bar = multi.add(
                    ProgressBar::new(total)
                        .with_position(position)
                        .with_elapsed(elapsed),
                );
                bar.set_style(style.clone());
                bar.set_prefix(c.to_string());
                bar
            })
            .collect();
        Bars {
            _multi: multi,
            bars,
        }
    }
}

/// The state the chains report into, and their bars.
pub(crate) struct ProgressDisplay {
    bars: Mutex<Option<Bars>>,
    chains: Vec<ChainProgress>,
    tune: u64,
    total: u64,
    start: Instant,
    done: AtomicBool,
}

impl ProgressDisplay {
    /// Whether to show progress: asked for and stderr is a terminal, or forced.
    pub fn wanted(requested: bool, forced: bool) -> bool {
        forced || (requested && std::io::stderr().is_terminal())
    }

    /// A display for `chains` chains of `tune + draws` iterations each, on stderr.
    pub fn new(chains: usize, tune: usize, draws: usize) -> Self {
        ProgressDisplay {
            bars: Mutex::new(None),
            chains: (0..chains).map(|_| ChainProgress::default()).collect(),
            tune: tune as u64,
            total: (tune + draws) as u64,
            start: Instant::now(),
            done: AtomicBool::new(false),
        }
    }

    /// The state chain `chain` reports into.
    pub fn chain(&self, chain: usize) -> &ChainProgress {
        &self.chains[chain]
    }

    /// Copies every chain's state into its bar, creating the bars first if `show`.
    fn refresh(&self, show: bool) {
        let Ok(mut bars) = self.bars.lock() else {
            return;
        };
        if bars.is_none() && show {
            *bars = Some(Bars::new(&self.chains, self.total, self.start.elapsed()));
        }
        let Some(bars) = bars.as_ref() else {
            return;
        };
        for (bar, state) in bars.bars.iter().zip(&self.chains) {
            let iterations = state.iterations.load(Ordering::Relaxed);
            let divergences = state.divergences.load(Ordering::Relaxed);
            let step_size = f64::from_bits(state.step_size.load(Ordering::Relaxed));
            let phase = if iterations < self.tune {
                "warm-up "
            } else {
                "sampling"
            };
            bar.set_position(iterations);
            bar.set_message(format!(
                "{phase} | divergences {divergences} | step size {step_size:.3}"
            ));
        }
    }

    /// The display thread's loop: refresh every [`REFRESH`] until [`stop`](Self::stop).
    pub fn run(&self) {
        while !self.done.load(Ordering::Acquire) {
            std::thread::park_timeout(REFRESH);
            if self.done.load(Ordering::Acquire) {
                break;
            }
            self.refresh(self.start.elapsed() >= SHOW_AFTER);
        }
    }

    /// Makes [`run`](Self::run) return (`display_thread` is the thread running it).
    pub fn stop(&self, display_thread: &Thread) {
        self.done.store(true, Ordering::Release);
        display_thread.unpark();
    }

    /// Final state of every bar shown: finished, or abandoned for chains in `failed`.
    pub fn finish(&self, failed: &[usize]) {
        self.refresh(false);
        let Ok(bars) = self.bars.lock() else {
            return;
        };
        let Some(bars) = bars.as_ref() else {
            return;
        };
        for (c, bar) in bars.bars.iter().enumerate() {
            if failed.contains(&c) {
                bar.abandon_with_message("failed");
            } else {
                bar.finish();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chains_report_through_atomics() {
        let display = ProgressDisplay::new(2, 10, 5);
        display.chain(1).record(3, true, 0.5);
        display.chain(1).record(4, false, 0.25);
        // Not shown yet: nothing to update.
        display.refresh(false);
        assert!(display.bars.lock().unwrap().is_none());
        display.refresh(true);
        {
            let bars = display.bars.lock().unwrap();
            let bars = &bars.as_ref().unwrap().bars;
            assert_eq!(bars[1].position(), 5);
            assert!(bars[1].message().contains("divergences 1"));
            assert!(bars[1].message().contains("0.250"));
            assert_eq!(bars[0].position(), 0);
        }
        display.chain(1).end_warmup();
        display.chain(1).record(12, false, 0.25);
        display.refresh(false);
        display.finish(&[0]);
        let bars = display.bars.lock().unwrap();
        let bars = &bars.as_ref().unwrap().bars;
        assert!(bars[1].message().starts_with("sampling | divergences 0"));
        assert!(bars[1].is_finished());
    }

    #[test]
    fn the_display_thread_stops_promptly() {
        let display = ProgressDisplay::new(1, 5, 5);
        let start = Instant::now();
        std::thread::scope(|scope| {
            let handle = scope.spawn(|| display.run());
            display.chain(0).record(9, false, 1.0);
            display.stop(handle.thread());
        });
        assert!(start.elapsed() < Duration::from_secs(2));
        display.finish(&[]);
    }
}
