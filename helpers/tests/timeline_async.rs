//! Instrumented futures on hand-written executors (std only): concurrency
//! without parallelism on one thread, and tasks resuming on another worker.

use helpers::timeline::{Layout, Timeline};
use std::future::Future;
use std::pin::Pin;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::thread;
use std::time::{Duration, Instant};

/// Completes `d` after its first poll; a helper thread does the waking.
fn sleep(d: Duration) -> impl Future<Output = ()> + Send {
    let mut deadline: Option<Instant> = None;
    std::future::poll_fn(move |cx| {
        let now = Instant::now();
        match deadline {
            Some(at) if now >= at => Poll::Ready(()),
            Some(_) => Poll::Pending,
            None => {
                let at = now + d;
                deadline = Some(at);
                let waker = cx.waker().clone();
                thread::spawn(move || {
                    thread::sleep(at.saturating_duration_since(Instant::now()));
                    waker.wake();
                });
                Poll::Pending
            }
        }
    })
}

/// Wakes a thread blocked in `block_on`.
struct Unpark(thread::Thread);

impl Wake for Unpark {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
}

/// A single-threaded executor: polls the future on the calling thread.
fn block_on<F: Future>(f: F) -> F::Output {
    let mut f = std::pin::pin!(f);
    let waker = Waker::from(Arc::new(Unpark(thread::current())));
    let mut cx = Context::from_waker(&waker);
    loop {
        match f.as_mut().poll(&mut cx) {
            Poll::Ready(v) => return v,
            Poll::Pending => thread::park(),
        }
    }
}

/// Polls all futures concurrently on one thread until all are done.
async fn join_all<F: Future<Output = ()>>(futures: Vec<F>) {
    let mut futures: Vec<Option<Pin<Box<F>>>> =
        futures.into_iter().map(|f| Some(Box::pin(f))).collect();
    std::future::poll_fn(move |cx| {
        for slot in &mut futures {
            if let Some(f) = slot {
                if f.as_mut().poll(cx).is_ready() {
                    *slot = None;
                }
            }
        }
        if futures.iter().all(Option::is_none) {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    })
    .await
}

#[test]
fn five_joined_timers_are_concurrent_but_not_parallel() {
    let tl = Timeline::new();
    let timers: Vec<_> = (0..5)
        .map(|i| {
            tl.instrument(format!("timer {i}"), sleep(Duration::from_millis(20)))
        })
        .collect();
    block_on(join_all(timers));
    let snap = tl.snapshot();
    assert_eq!(snap.max_concurrent(), 5);
    assert_eq!(snap.max_parallel(), 1);
    assert_eq!(snap.threads_used(), 1);
    for i in 0..5 {
        let label = format!("timer {i}");
        assert!(
            snap.segments(&label).unwrap() >= 2,
            "polled, waited, polled"
        );
        assert!(!snap.resumed_on_other_thread(&label));
        assert!(!snap.was_cancelled(&label));
    }
    let svg = snap.to_svg(Layout::ByTask);
    roxmltree::Document::parse(&svg).unwrap();
}

/// A task of the two-worker executor. Each wake-up sends it to the worker that
/// did *not* poll it last, so every resumption changes thread (deterministic, for
/// the test; real executors decide by who is free).
struct Task {
    future: Mutex<Option<Pin<Box<dyn Future<Output = ()> + Send>>>>,
    last_worker: Mutex<usize>,
    queues: Vec<mpsc::Sender<Option<Arc<Task>>>>,
}

impl Wake for Task {
    fn wake(self: Arc<Self>) {
        let other = 1 - *self.last_worker.lock().unwrap();
        let _ = self.queues[other].send(Some(Arc::clone(&self)));
    }
}

#[test]
fn tasks_resume_on_the_other_worker() {
    let tl = Timeline::new();
    let (senders, receivers): (Vec<_>, Vec<_>) =
        (0..2).map(|_| mpsc::channel()).unzip();
    let (done_tx, done_rx) = mpsc::channel::<()>();
    let workers: Vec<_> = receivers
        .into_iter()
        .enumerate()
        .map(|(w, rx): (usize, mpsc::Receiver<Option<Arc<Task>>>)| {
            let done_tx = done_tx.clone();
            thread::Builder::new()
                .name(format!("worker-{w}"))
                .spawn(move || {
                    while let Ok(Some(task)) = rx.recv() {
                        *task.last_worker.lock().unwrap() = w;
                        let waker = Waker::from(Arc::clone(&task));
                        let mut slot = task.future.lock().unwrap();
                        if let Some(f) = slot.as_mut() {
                            let mut cx = Context::from_waker(&waker);
                            if f.as_mut().poll(&mut cx).is_ready() {
                                *slot = None;
                                done_tx.send(()).unwrap();
                            }
                        }
                    }
                })
                .unwrap()
        })
        .collect();
    for i in 0..3 {
        let tl2 = tl.clone();
        let future = tl.instrument(format!("download {i}"), async move {
            for chunk in 0..3 {
                sleep(Duration::from_millis(5)).await;
                drop(tl2.span(format!("chunk {i}.{chunk}")));
            }
        });
        let task = Arc::new(Task {
            future: Mutex::new(Some(Box::pin(future))),
            last_worker: Mutex::new(1),
            queues: senders.clone(),
        });
        task.wake();
    }
    for _ in 0..3 {
        done_rx.recv_timeout(Duration::from_secs(10)).unwrap();
    }
    for s in &senders {
        s.send(None).unwrap();
    }
    for w in workers {
        w.join().unwrap();
    }
    let snap = tl.snapshot();
    for i in 0..3 {
        let label = format!("download {i}");
        assert_eq!(snap.segments(&label), Some(4));
        assert!(snap.resumed_on_other_thread(&label));
        assert_eq!(snap.threads_of(&label), ["T2 worker-0", "T3 worker-1"]);
    }
    assert_eq!(snap.threads_used(), 2);
    assert_eq!(snap.task_count(), 3);
    assert_eq!(snap.span_count(), 9);
    // Three tasks, plus one chunk span (two if both workers decode at once).
    assert!((4..=5).contains(&snap.max_concurrent()));
    let text = snap.to_text();
    assert!(text.contains("2 = T2 worker-0") && text.contains("3 = T3 worker-1"));
}
