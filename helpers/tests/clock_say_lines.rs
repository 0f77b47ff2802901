//! `say!` lines from many threads must never mix: each is written in one piece.
//!
//! The test harness captures `print!` output, so the test runs itself again as
//! a child process with `--nocapture` and checks the child's real stdout.

use std::process::Command;

const THREADS: usize = 8;
const LINES: usize = 200;

#[test]
fn say_lines_from_many_threads_stay_whole() {
    if std::env::var_os("SAY_LINES_CHILD").is_some() {
        std::thread::scope(|s| {
            for t in 0..THREADS {
                s.spawn(move || {
                    for i in 0..LINES {
                        helpers::say!("thread {t} line {i} {}", "x".repeat(100));
                    }
                });
            }
        });
        return;
    }
    let out = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "say_lines_from_many_threads_stay_whole",
            "--nocapture",
        ])
        .env("SAY_LINES_CHILD", "1")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = stdout.lines().filter(|l| l.starts_with('[')).collect();
    assert_eq!(lines.len(), THREADS * LINES);
    let mut labels = std::collections::HashMap::new();
    for line in &lines {
        // [ 0.012 s] [T3 unnamed] thread 2 line 17 xxx...
        let (stamp, rest) = line.split_once(" s] [T").expect(line);
        let secs = stamp.trim_start_matches('[').trim();
        assert!(secs.len() >= 5 && secs.parse::<f64>().is_ok(), "{line}");
        let (label, msg) = rest.split_once("] ").expect(line);
        let words: Vec<&str> = msg.split(' ').collect();
        assert_eq!(words.len(), 5, "{line}");
        assert_eq!(words[4], "x".repeat(100), "{line}");
        // Every line of one thread carries the same label, and labels differ.
        let old = labels.insert(words[1].to_string(), label.to_string());
        assert!(old.is_none_or(|old| old == label), "{line}");
    }
    let distinct: std::collections::HashSet<_> = labels.values().collect();
    assert_eq!(distinct.len(), THREADS);
}
