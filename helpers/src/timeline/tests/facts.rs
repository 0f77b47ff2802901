//! The facts of snapshots built from explicit times.

use super::*;

#[test]
fn joined_timers_are_concurrent_not_parallel() {
    let s = five_timers();
    assert_eq!(s.max_concurrent(), 5);
    assert_eq!(s.max_parallel(), 1);
    assert_eq!(s.threads_used(), 1);
    assert_eq!(s.thread_names(), ["T1 main"]);
    assert_eq!(s.task_count(), 5);
    assert_eq!(s.poll_count(), 10);
    assert_eq!(s.segments("timer 3"), Some(2));
    assert_eq!(s.segments("timer 9"), None);
    assert!(!s.resumed_on_other_thread("timer 0"));
    assert!(!s.was_cancelled("timer 0"));
    assert_eq!(s.wall(), Duration::from_nanos(104 * MS + 10));
    assert_eq!(
        s.task_lifetime("timer 2"),
        Some(Duration::from_nanos(102 * MS + 10))
    );
    assert_eq!(s.len(), 5);
}

#[test]
fn touching_intervals_do_not_overlap() {
    let s = Build::new(&["main", "a", "b"])
        .span("first", 2, 0, 10)
        .span("second", 3, 10, 20)
        .build();
    assert_eq!(s.max_concurrent(), 1);
    assert_eq!(s.max_parallel(), 1);
    assert_eq!(s.threads_used(), 2);
    let s = Build::new(&["main", "a", "b"])
        .span("first", 2, 0, 11)
        .span("second", 3, 10, 20)
        .build();
    assert_eq!(s.max_concurrent(), 2);
    assert_eq!(s.max_parallel(), 2);
}

#[test]
fn nested_spans_are_concurrent_but_one_thread_is_not_parallel() {
    let s = Build::new(&["main"])
        .span("outer", 1, 0, 100)
        .span("inner", 1, 10, 20)
        .span("inner", 1, 30, 40)
        .build();
    assert_eq!(s.max_concurrent(), 2);
    assert_eq!(s.max_parallel(), 1);
    assert_eq!(s.busy(1), Some(Duration::from_nanos(100)));
    assert_eq!(s.busy(2), None);
    assert_eq!(s.busy(0), None);
    assert_eq!(s.span_duration("inner"), Some(Duration::from_nanos(20)));
    assert_eq!(s.span_duration("outer"), Some(Duration::from_nanos(100)));
    assert_eq!(s.span_duration("nope"), None);
    assert_eq!(s.count_per_thread(), [("T1 main".to_string(), 3)]);
}

#[test]
fn busy_and_counts_per_thread() {
    let s = Build::new(&["main", "w", "w"])
        .span("a", 2, 0, 10)
        .span("b", 2, 5, 30)
        .span("c", 3, 0, 7)
        .task(1, "t", 0, Some((100, true)))
        .poll(1, 3, 50, 60)
        .mark("m", 1, 5)
        .build();
    assert_eq!(
        s.busy_per_thread(),
        [
            ("T2 w".to_string(), Duration::from_nanos(30)),
            ("T3 w".to_string(), Duration::from_nanos(17)),
        ]
    );
    assert_eq!(
        s.count_per_thread(),
        [("T2 w".to_string(), 2), ("T3 w".to_string(), 2)]
    );
    assert_eq!(s.threads_used(), 2, "marks do not make a thread used");
    assert_eq!(s.thread_names(), ["T2 w", "T3 w"]);
    assert_eq!(s.wall(), Duration::from_nanos(100));
    assert_eq!(s.len(), 5);
    assert_eq!(s.mark_count(), 1);
}

#[test]
fn task_moving_between_threads() {
    let s = Build::new(&["main", "worker", "worker"])
        .task(7, "download", 0, Some((100, true)))
        .poll(7, 2, 0, 10)
        .poll(7, 3, 40, 50)
        .poll(7, 2, 90, 100)
        .task(8, "local", 0, Some((100, true)))
        .poll(8, 2, 10, 20)
        .poll(8, 2, 60, 70)
        .build();
    assert!(s.resumed_on_other_thread("download"));
    assert!(!s.resumed_on_other_thread("local"));
    assert_eq!(s.threads_of("download"), ["T2 worker", "T3 worker"]);
    assert_eq!(s.threads_of("local"), ["T2 worker"]);
    assert_eq!(s.segments("download"), Some(3));
    assert_eq!(s.max_parallel(), 1);
    assert_eq!(s.max_concurrent(), 2);
}

#[test]
fn interleaved_polls_of_two_tasks_are_not_resumptions() {
    // Task 1 stays on T2 while task 2 (same label) stays on T3.
    let s = Build::new(&["main", "a", "b"])
        .task(1, "job", 0, Some((100, true)))
        .task(2, "job", 0, Some((100, true)))
        .poll(1, 2, 0, 10)
        .poll(2, 3, 5, 15)
        .poll(1, 2, 20, 30)
        .poll(2, 3, 25, 35)
        .build();
    assert!(!s.resumed_on_other_thread("job"));
    assert_eq!(s.segments("job"), Some(4));
    assert_eq!(s.max_parallel(), 2);
}

#[test]
fn cancelled_and_running_tasks() {
    let s = Build::new(&["main"])
        .task(1, "dropped", 0, Some((50, false)))
        .poll(1, 1, 0, 10)
        .task(2, "running", 20, None)
        .span("s", 1, 0, 30)
        .taken_at(500)
        .build();
    assert!(s.was_cancelled("dropped"));
    assert!(!s.was_cancelled("running"));
    assert_eq!(s.task_lifetime("running"), Some(Duration::from_nanos(480)));
    assert_eq!(s.wall(), Duration::from_nanos(500));
}

#[test]
#[should_panic(expected = "no task labelled \"typo\"")]
fn unknown_task_label_panics_clearly() {
    five_timers().resumed_on_other_thread("typo");
}

#[test]
fn events_of_unknown_tasks_wait_for_the_next_snapshot() {
    let s = Build::new(&["main"])
        .poll(99, 1, 0, 10)
        .span("s", 1, 0, 5)
        .build();
    assert_eq!(s.poll_count(), 0);
    assert_eq!(s.threads_used(), 1);
}

#[test]
fn overlap_sweep_is_exact() {
    assert_eq!(max_overlap([(0, 10), (10, 20), (20, 30)].into_iter()), 1);
    assert_eq!(max_overlap([(0, 10), (9, 20), (19, 30)].into_iter()), 2);
    assert_eq!(max_overlap([(0, 10), (0, 10), (0, 10)].into_iter()), 3);
    assert_eq!(max_overlap([(5, 5), (5, 5)].into_iter()), 0, "empty");
    assert_eq!(max_overlap([(0, 10), (5, 5)].into_iter()), 1);
    assert_eq!(max_overlap(std::iter::empty()), 0);
    assert_eq!(
        union(vec![(5, 9), (0, 3), (3, 4), (8, 12)]),
        [(0, 4), (5, 12)]
    );
}

#[test]
fn axis_steps_are_1_2_5() {
    assert_eq!(nice_step(100.0), (20.0, 0));
    assert_eq!(nice_step(8.0), (1.0, 0));
    let (step, decimals) = nice_step(0.4);
    assert!((step - 0.05).abs() < 1e-12 && decimals == 2);
    assert_eq!(nice_step(3.0).1, 1);
}
