//! Records a small threaded workload and a small async workload into one
//! [`Timeline`], prints the text chart and writes the pictures.
//!
//! ```text
//! cargo run -p helpers --example timeline_demo
//! ```
//!
//! Writes `target/timeline_demo.svg` (one row per task), `target/timeline_demo.
//! by_thread.svg` (one row per thread) and `target/timeline_demo.trace.json` (open
//! it at <https://ui.perfetto.dev>).
//!
//! The async part uses no runtime crate: a tiny executor below runs tasks on two
//! worker threads that share one run queue, and a timer thread wakes sleeping
//! futures. A task that sleeps is suspended at its `.await`, and whichever worker
//! is free resumes it: the picture shows the gaps and the change of colour.

use helpers::timeline::{Layout, Timeline};
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::future::Future;
use std::pin::Pin;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::thread;
use std::time::{Duration, Instant};

fn main() -> std::io::Result<()> {
    let tl = Timeline::new();

    println!("1. Three threads, each parsing two files (CPU) and saving them (I/O)");
    thread::scope(|s| {
        for t in 0..3 {
            let tl = &tl;
            thread::Builder::new()
                .name(format!("parser-{t}"))
                .spawn_scoped(s, move || {
                    for f in 0..2 {
                        {
                            let _g = tl.span(format!("parse file {}", 2 * t + f));
                            spin(Duration::from_millis(6 + 2 * t as u64));
                        }
                        let _g = tl.span("save");
                        thread::sleep(Duration::from_millis(4));
                    }
                })
                .unwrap();
        }
    });
    tl.mark("threads done");

    println!("2. Four downloads on a two-worker executor, one of them timed out");
    let rt = Runtime::new(2);
    for i in 0..3 {
        let tl2 = tl.clone();
        rt.spawn(tl.instrument(format!("download {i}"), async move {
            for chunk in 0..3 {
                sleep(Duration::from_millis(8 + 3 * i)).await;
                let _g = tl2.span(format!("decode {i}.{chunk}"));
                spin(Duration::from_millis(2));
            }
        }));
    }
    let slow = tl.instrument("slow download", async {
        sleep(Duration::from_millis(200)).await;
    });
    rt.spawn(tl.instrument("timeout 30 ms", async move {
        let timed_out = race(slow, sleep(Duration::from_millis(30))).await;
        assert!(timed_out.is_err(), "the slow download should lose");
    }));
    rt.finish();

    let snap = tl.snapshot();
    println!();
    print!("{}", snap.to_text());
    println!();
    println!("threads used:      {}", snap.threads_used());
    println!("max concurrent:    {}", snap.max_concurrent());
    println!("max parallel:      {}", snap.max_parallel());
    println!("wall:              {:?}", snap.wall());
    for i in 0..3 {
        let label = format!("download {i}");
        println!(
            "{label}: {} polls on {:?}",
            snap.segments(&label).unwrap(),
            snap.threads_of(&label)
        );
    }
    println!(
        "slow download cancelled: {}",
        snap.was_cancelled("slow download")
    );

    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target");
    std::fs::create_dir_all(&dir)?;
    let by_task = dir.join("timeline_demo.svg");
    let by_thread = dir.join("timeline_demo.by_thread.svg");
    let trace = dir.join("timeline_demo.trace.json");
    snap.write_svg(&by_task, Layout::ByTask)?;
    snap.write_svg(&by_thread, Layout::ByThread)?;
    snap.write_chrome_trace(&trace)?;
    for p in [by_task, by_thread, trace] {
        println!("wrote {}", p.canonicalize()?.display());
    }
    Ok(())
}

/// Keeps the CPU busy for `d` (a sleep would free the thread: not CPU work).
fn spin(d: Duration) {
    let end = Instant::now() + d;
    while Instant::now() < end {
        std::hint::spin_loop();
    }
}

// ---- a tiny executor ------------------------------------------------------------

type BoxFuture = Pin<Box<dyn Future<Output = ()> + Send>>;

/// A spawned future, and how to get it polled again when it is woken.
struct Task {
    future: Mutex<Option<BoxFuture>>,
    queue: Sender<Message>,
}

enum Message {
    Run(Arc<Task>),
    Stop,
}

impl Wake for Task {
    fn wake(self: Arc<Self>) {
        let queue = self.queue.clone();
        let _ = queue.send(Message::Run(self));
    }
}

/// Worker threads sharing one run queue, and a count of unfinished tasks.
struct Runtime {
    queue: Sender<Message>,
    workers: Vec<thread::JoinHandle<()>>,
    pending: Arc<(Mutex<usize>, std::sync::Condvar)>,
}

impl Runtime {
    fn new(workers: usize) -> Runtime {
        let (queue, rx) = mpsc::channel::<Message>();
        let rx = Arc::new(Mutex::new(rx));
        let workers = (0..workers)
            .map(|i| {
                let rx = Arc::clone(&rx);
                thread::Builder::new()
                    .name(format!("worker-{i}"))
                    .spawn(move || worker(&rx))
                    .unwrap()
            })
            .collect();
        let pending = Arc::new((Mutex::new(0), std::sync::Condvar::new()));
        Runtime {
            queue,
            workers,
            pending,
        }
    }

    fn spawn(&self, future: impl Future<Output = ()> + Send + 'static) {
        *self.pending.0.lock().unwrap() += 1;
        let pending = Arc::clone(&self.pending);
        let future = async move {
            future.await;
            let (count, done) = &*pending;
            *count.lock().unwrap() -= 1;
            done.notify_all();
        };
        let task = Arc::new(Task {
            future: Mutex::new(Some(Box::pin(future))),
            queue: self.queue.clone(),
        });
        self.queue.send(Message::Run(task)).unwrap();
    }

    /// Waits for every spawned task, then stops the workers.
    fn finish(self) {
        let (count, done) = &*self.pending;
        let mut left = count.lock().unwrap();
        while *left > 0 {
            left = done.wait(left).unwrap();
        }
        drop(left);
        for _ in &self.workers {
            self.queue.send(Message::Stop).unwrap();
        }
        for w in self.workers {
            w.join().unwrap();
        }
    }
}

fn worker(rx: &Mutex<Receiver<Message>>) {
    loop {
        let message = rx.lock().unwrap().recv();
        let task = match message {
            Ok(Message::Run(task)) => task,
            Ok(Message::Stop) | Err(_) => return,
        };
        let waker = Waker::from(Arc::clone(&task));
        let mut slot = task.future.lock().unwrap();
        if let Some(future) = slot.as_mut() {
            if future
                .as_mut()
                .poll(&mut Context::from_waker(&waker))
                .is_ready()
            {
                *slot = None;
            }
        }
    }
}

// ---- timers -----------------------------------------------------------------------

/// The timer thread's inbox: wake this waker at this instant.
fn timer() -> &'static Sender<(Instant, Waker)> {
    static TIMER: std::sync::OnceLock<Sender<(Instant, Waker)>> =
        std::sync::OnceLock::new();
    TIMER.get_or_init(|| {
        let (tx, rx) = mpsc::channel::<(Instant, Waker)>();
        thread::Builder::new()
            .name("timer".into())
            .spawn(move || {
                let mut heap: BinaryHeap<Reverse<(Instant, u64)>> =
                    BinaryHeap::new();
                let mut wakers = std::collections::HashMap::new();
                let mut next_id = 0u64;
                loop {
                    let now = Instant::now();
                    while let Some(&Reverse((at, id))) = heap.peek() {
                        if at > now {
                            break;
                        }
                        heap.pop();
                        if let Some(w) = wakers.remove(&id) {
                            Waker::wake(w);
                        }
                    }
                    let wait = heap.peek().map(|Reverse((at, _))| *at - now);
                    let got = match wait {
                        Some(wait) => rx.recv_timeout(wait),
                        None => {
                            rx.recv().map_err(|_| RecvTimeoutError::Disconnected)
                        }
                    };
                    match got {
                        Ok((at, waker)) => {
                            heap.push(Reverse((at, next_id)));
                            wakers.insert(next_id, waker);
                            next_id += 1;
                        }
                        Err(RecvTimeoutError::Timeout) => {}
                        Err(RecvTimeoutError::Disconnected) => return,
                    }
                }
            })
            .unwrap();
        tx
    })
}

/// Completes `d` after it is first polled, without blocking a worker.
fn sleep(d: Duration) -> impl Future<Output = ()> {
    let mut deadline = None;
    std::future::poll_fn(move |cx| {
        let at = *deadline.get_or_insert_with(|| Instant::now() + d);
        if Instant::now() >= at {
            Poll::Ready(())
        } else {
            let _ = timer().send((at, cx.waker().clone()));
            Poll::Pending
        }
    })
}

/// Runs two futures until the first finishes; the other is dropped (cancelled).
async fn race<A: Future, B: Future>(a: A, b: B) -> Result<A::Output, B::Output> {
    let (mut a, mut b) = (Box::pin(a), Box::pin(b));
    std::future::poll_fn(move |cx| {
        if let Poll::Ready(v) = a.as_mut().poll(cx) {
            return Poll::Ready(Ok(v));
        }
        if let Poll::Ready(v) = b.as_mut().poll(cx) {
            return Poll::Ready(Err(v));
        }
        Poll::Pending
    })
    .await
}
