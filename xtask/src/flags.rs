//! Every command's arguments, declared once. Anything not declared here is an error
//! that prints the usage; `cargo xtask <command> --help` answers without doing work.

use std::path::PathBuf;

xflags::xflags! {
    /// The course's own commands: set-up, JupyterLab, tests, handouts.
    cmd xtask {
        /// Install what the notebooks need, step by step; safe to re-run.
        cmd setup {}

        /// Set up if needed, then serve JupyterLab on your own copy of the
        /// notebooks (my-notebooks/), on 127.0.0.1 with Jupyter's token login.
        cmd lab {
            /// The port to serve on (default: 8888, or the next free one).
            optional --port port: u16
            /// Do not open a web browser; only print the address to open.
            optional --no-browser
            /// Serve this folder as your copy instead of my-notebooks/ (the browser
            /// check uses its own, so it never touches yours).
            optional --dir dir: PathBuf
            /// Expose JupyterLab's app object to the page (`window.jupyterapp`), so
            /// a browser test can run cells through the UI.
            optional --expose-app
        }

        /// The one test command: fmt, clippy, cargo test, the harness's own tests,
        /// the kernel checks, the browser check, then every notebook in a fresh kernel.
        cmd test {
            /// Only the notebooks whose path contains one of these (skips the rest).
            repeated patterns: String
        }

        /// Pre-build every crate the notebooks `:dep` into evcxr's cache, so a
        /// workshop room needs no network and first cells take seconds.
        cmd warm {}

        /// Executed notebooks as HTML pages, an index and one PDF, in handouts/.
        cmd handouts {
            /// Build them from the notebooks the last `cargo xtask test` executed.
            optional --reuse
        }

        /// Remove outputs and execution counts from the course's source notebooks
        /// (notebooks/; your own copies in my-notebooks/ are never touched).
        cmd strip {}

        /// Put the course's version of notebooks back in my-notebooks/ (your
        /// copy is kept in my-notebooks/.backup/ first).
        cmd reset {
            /// Which notebooks: their path contains one of these (e.g. 03 or 09b).
            repeated patterns: String
        }

        /// Rewrite every notebook's `:dep` line for tokio, futures and smol from
        /// xtask/crates.txt (edit a version there first, then run `test`).
        cmd pins {}

        /// Copy the times the last full `cargo xtask test` (and the last kernel
        /// build) measured into xtask/measured.json, the README and the
        /// teacher's guide: the one place every quoted time comes from.
        cmd measured {}

        /// What the kernel makes a learner wait for, measured in the real kernel.
        cmd kernel-bench {
            /// `:dep helpers`, a notebook's setup cell, the crates' `:dep`, trivial
            /// and runtime cells, Tab completion; then issue #11's waits, before
            /// and now.
            default cmd cells {}
            /// How long the first `:dep` of tokio, futures and smol takes.
            cmd deps {}
            /// The slowest cells of each notebook in the last full test.
            cmd slow-cells {}
            /// Whether any line a cell prints arrives after the cell is done.
            cmd output {
                /// Keep the other cores busy meanwhile.
                optional --busy
                /// Cells of each kind (default 40).
                optional --cells n: u32
            }
        }

        /// Serve the course to a workshop room on this machine: JupyterHub, one
        /// Unix account and private copy per learner, log-in with printed cards.
        /// Needs root (it makes the accounts).
        cmd room {
            /// The learners: a text file, one name per line (# starts a comment).
            optional --learners file: PathBuf
            /// The teacher's account name, the only admin (default: teacher).
            optional --teacher name: String
            /// The address to serve on (default 127.0.0.1; 0.0.0.0 for a room's
            /// network, with TLS in front).
            optional --address address: String
            /// The port (default 8000, or the next free one).
            optional --port port: u16
            /// Stop a learner's server after this many idle minutes (default 60;
            /// 0 never). Their work stays; logging in starts it again.
            optional --cull-after-minutes minutes: u32
            /// Serve HTTPS with this certificate (with --ssl-key).
            optional --ssl-cert file: PathBuf
            /// The certificate's private key.
            optional --ssl-key file: PathBuf
            /// Remove every account the room made, with its home, and stop.
            optional --remove-accounts
        }

        /// How many learners one server holds: N simulated learners log in to a
        /// room together and run a notebook's cells; prints each one's waits and
        /// memory (needs root).
        cmd room-bench {
            /// How many learners.
            required --learners n: u32
            /// New learners start without the warmed evcxr cache.
            optional --no-seed
            /// Which notebook they run (default 01).
            optional --notebook pattern: String
        }
    }
}

impl Xtask {
    /// The usage of every command, as `--help` prints it.
    pub const HELP: &'static str = Self::HELP_;
}
