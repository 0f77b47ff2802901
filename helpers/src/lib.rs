//! Teaching helpers for a hands-on course on Rust concurrency.
//!
//! Every notebook of the course starts with
//!
//! ```text
//! :dep helpers = { path = "../helpers" }
//! use helpers::prelude::*;
//! ```
//!
//! and then uses this crate to *show* what ran where and when: which OS thread ran
//! which piece of work, when a task was suspended at an `.await`, how long things
//! took, how much memory a thousand threads cost. This is teaching code: it favours
//! clear output and exact facts (the notebooks `assert!` their claims with them)
//! over generality.
//!
//! The crate has no dependencies, on any system, and no async runtime: evcxr compiles
//! and links every dependency into every notebook cell, so each one would cost the
//! learner time in every cell. Notebooks use tokio, smol and futures directly.
//!
//! `unsafe` is denied crate-wide and allowed only on the few calls into the operating
//! system that std does not offer (resident memory, thread counts and names, context
//! switches, the main thread on macOS, a listening socket's queue): each is one
//! small, `SAFETY`-commented item marked `#[allow(unsafe_code)]`. The modules that
//! need none forbid it.
//!
//! # Living inside evcxr
//!
//! evcxr links a fresh copy of this crate into each cell, so `static`s and
//! `thread_local!`s start again in every cell. State that must outlive a cell lives
//! in values the notebook holds: a [`Timeline`](timeline::Timeline) made in one
//! cell keeps recording correctly in later cells. What uses a per-copy global says
//! so: the [`say!`] clock and thread numbers restart in every cell (and last for the
//! whole process in a plain program).
//!
//! # Layout
//!
//! - [`clock`]: the epoch `say!` prints from, `time_it`, `time_async`, `Stopwatch`.
//! - [`fmt`]: the one way each thing a learner reads is written: durations, byte
//!   sizes, counts, escaped and truncated text, evcxr's display protocol.
//! - [`say!`]: one line per call, stamped with the time and the thread that printed it.
//! - [`threads`]: stable identities and short labels (`T1 main`) for OS threads.
//! - [`timeline`]: records spans, marks and every poll of a future; facts to assert
//!   on; pictures as SVG (inline in evcxr), text and Chrome trace JSON.
//! - [`work`]: workloads: `cpu_spin`, `blocking_io` and the shared "downloads".
//! - [`server`]: `SlowServer`, a local HTTP server to download them from over
//!   real sockets, each answer as slow as its request asks.
//! - [`process`]: resident memory, OS thread count and names, and context
//!   switches of this process, and the cost of spawning N units of work.
//! - [`table`]: comparison tables rendered as HTML in evcxr and text elsewhere.
//! - [`prelude`]: what notebooks import with `use helpers::prelude::*;`.

#![deny(unsafe_code)]

pub mod clock;
pub mod fmt;
pub mod process;
pub mod say;
pub mod server;
pub mod table;
pub mod threads;
pub mod timeline;
pub mod work;

/// Everything a notebook needs, in one `use helpers::prelude::*;`.
pub mod prelude {
    pub use crate::clock::{Stopwatch, time_async, time_it};
    pub use crate::fmt::{fmt_bytes, fmt_duration};
    pub use crate::process::{
        ContextSwitches, SpawnCost, context_switches, measure_spawn, not_available,
        or_na, os_thread_count, os_thread_names, resident_bytes,
    };
    pub use crate::say;
    pub use crate::server::{SlowServer, parse_response};
    pub use crate::table::Table;
    pub use crate::threads::ThreadInfo;
    pub use crate::timeline::{Layout, Snapshot, Timeline};
    pub use crate::work::{
        Download, PARSE_TIME, blocking_io, cpu_spin, download_blocking, downloads,
    };
    pub use std::time::Duration;
}
