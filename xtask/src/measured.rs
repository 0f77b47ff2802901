//! One place for every measured time the course quotes: `xtask/measured.json`.
//!
//! The README (set-up and test times), the teacher's guide (set-up time and each
//! notebook's run time) and `cargo xtask setup` (the kernel's build time) quote
//! it. `cargo xtask measured` copies what the last full `cargo xtask test`
//! (`target/notebooks-report.json`, `target/test-seconds`) and the last kernel
//! build (`target/kernel/install-seconds`) measured into the file and the texts;
//! the unit test below fails when a text disagrees with the file.

use crate::flags;
use crate::util::{Result, write_json};
use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

/// The figures of `xtask/measured.json`.
#[derive(Clone, Debug, PartialEq)]
pub struct Measured {
    /// `cargo install` of the patched kernel on an idle 2-core machine.
    pub kernel_build_minutes: f64,
    /// Installing the Python packages.
    pub python_packages_seconds: u64,
    /// A full `cargo xtask test` on a fresh clone.
    pub test_minutes: u64,
    /// Each lesson's run time in a fresh kernel, by its number (`"05"`).
    pub run_seconds: BTreeMap<String, u64>,
}

/// The file, as compiled into xtask (so `setup` quotes it without reading files).
const FILE: &str = include_str!("../measured.json");

impl Measured {
    /// The figures xtask was built with.
    pub fn built_in() -> Measured {
        Measured::parse(FILE).expect("xtask/measured.json is checked by a unit test")
    }

    fn parse(text: &str) -> Result<Measured> {
        let v: serde_json::Value =
            serde_json::from_str(text).map_err(|e| format!("measured.json: {e}"))?;
        let number = |key: &str| {
            v[key]
                .as_f64()
                .ok_or_else(|| format!("measured.json: no number `{key}`"))
        };
        let run_seconds = v["run_seconds"]
            .as_object()
            .ok_or("measured.json: no `run_seconds`")?
            .iter()
            .map(|(k, s)| {
                Ok((k.clone(), s.as_u64().ok_or(format!("run_seconds.{k}"))?))
            })
            .collect::<Result<_>>()?;
        Ok(Measured {
            kernel_build_minutes: number("kernel_build_minutes")?,
            python_packages_seconds: number("python_packages_seconds")? as u64,
            test_minutes: number("test_minutes")? as u64,
            run_seconds,
        })
    }

    /// What `cargo xtask setup` takes on a fresh machine, in whole minutes: the
    /// kernel's build and the Python packages, rounded up.
    pub fn setup_minutes(&self) -> u64 {
        (self.kernel_build_minutes + self.python_packages_seconds as f64 / 60.0)
            .ceil() as u64
    }

    fn to_json(&self) -> serde_json::Value {
        let about: serde_json::Value =
            serde_json::from_str::<serde_json::Value>(FILE)
                .map(|v| v["about"].clone())
                .unwrap_or_default();
        serde_json::json!({
            "about": about,
            "kernel_build_minutes": self.kernel_build_minutes,
            "python_packages_seconds": self.python_packages_seconds,
            "test_minutes": self.test_minutes,
            "run_seconds": self.run_seconds,
        })
    }
}

/// Replaces what stands between the one occurrence of `before` and the next
/// `after` with `value`. Errors name the text and the phrase it lacks.
fn set_between(
    text: &str,
    name: &str,
    before: &str,
    after: &str,
    value: &str,
) -> Result<String> {
    let mut starts = text.match_indices(before).map(|(i, _)| i + before.len());
    let start = starts
        .next()
        .ok_or_else(|| format!("{name} no longer says `{before}...{after}`"))?;
    if starts.next().is_some() {
        return Err(format!("{name} says `{before}` twice: say it once"));
    }
    let end = start
        + text[start..]
            .find(after)
            .ok_or_else(|| format!("{name}: no `{after}` after `{before}`"))?;
    Ok(format!("{}{value}{}", &text[..start], &text[end..]))
}

/// The README with the file's figures in it: each between the words before and
/// after it.
fn readme(text: &str, m: &Measured) -> Result<String> {
    let figures = [
        (
            "takes about\n**",
            " minutes**",
            m.setup_minutes().to_string(),
        ),
        (
            "(measured: ",
            " minutes for `evcxr_jupyter`",
            m.kernel_build_minutes.to_string(),
        ),
        (
            "minutes for `evcxr_jupyter`, ",
            " s for the Python",
            m.python_packages_seconds.to_string(),
        ),
        ("takes about **", " minutes**", m.test_minutes.to_string()),
    ];
    figures
        .iter()
        .try_fold(text.to_string(), |t, (before, after, value)| {
            set_between(&t, "README.md", before, after, value)
        })
}

/// The teacher's guide with the file's figures in it: the set-up time, and the
/// last column (`| 42 s |`) of each lesson's row (`| [05 · ...`).
fn teachers_guide(text: &str, m: &Measured) -> Result<String> {
    let name = "notebooks/README.md";
    let t = set_between(
        text,
        name,
        "`cargo xtask setup` (about ",
        " minutes on an",
        &m.setup_minutes().to_string(),
    )?;
    let mut out = String::new();
    for line in t.split_inclusive('\n') {
        let row = line
            .strip_prefix("| [")
            .and_then(|r| r.get(..2))
            .filter(|nn| m.run_seconds.contains_key(*nn));
        match row {
            Some(nn) => {
                let body = line.trim_end().trim_end_matches('|').trim_end();
                let cut = body
                    .rfind('|')
                    .ok_or_else(|| format!("{name}: row {nn} has no columns"))?;
                out.push_str(&format!(
                    "{}| {} s |\n",
                    &body[..cut],
                    m.run_seconds[nn]
                ));
            }
            None => out.push_str(line),
        }
    }
    for nn in m.run_seconds.keys() {
        if !out.contains(&format!("| [{nn} ·")) {
            return Err(format!("{name} has no row for notebook {nn}"));
        }
    }
    Ok(out)
}

/// Puts the file's figures into one text.
type Rewrite = fn(&str, &Measured) -> Result<String>;

/// The texts that quote the file, each with its rewrite.
const TEXTS: [(&str, Rewrite); 2] = [
    ("README.md", readme),
    ("notebooks/README.md", teachers_guide),
];

impl flags::Measured {
    pub fn run(self, root: &Path) -> Result<()> {
        update(root)
    }
}

/// `cargo xtask measured`: copies the last measurements into the file and texts.
fn update(root: &Path) -> Result<()> {
    let path = root.join("xtask/measured.json");
    let read = |p: &Path| {
        fs::read_to_string(p).map_err(|e| format!("{}: {e}", p.display()))
    };
    let mut m = Measured::parse(&read(&path)?)?;
    let mut said = Vec::new();
    if let Ok(report) = fs::read_to_string(root.join("target/notebooks-report.json"))
    {
        let runs: serde_json::Value =
            serde_json::from_str(&report).map_err(|e| e.to_string())?;
        for r in runs.as_array().into_iter().flatten() {
            let Some(file) =
                r["path"].as_str().and_then(|p| Path::new(p).file_name())
            else {
                continue;
            };
            let file = file.to_string_lossy();
            let nn = &file[..2.min(file.len())];
            let lesson = r["path"].as_str().is_some_and(|p| {
                !p.contains("exercises") && !p.contains("solutions")
            });
            if lesson
                && r["passed"] == true
                && nn.chars().all(|c| c.is_ascii_digit())
            {
                m.run_seconds.insert(
                    nn.to_string(),
                    r["seconds"].as_f64().unwrap_or(0.0).round() as u64,
                );
            }
        }
        said.push("each notebook's run time");
    }
    // A number of seconds a run left in target/, if it did.
    let seconds_in = |file: &str| -> Result<Option<f64>> {
        match fs::read_to_string(root.join(file)) {
            Err(_) => Ok(None),
            Ok(s) => s
                .trim()
                .parse()
                .map(Some)
                .map_err(|e| format!("{file}: {e}")),
        }
    };
    if let Some(secs) = seconds_in("target/test-seconds")? {
        m.test_minutes = (secs / 60.0).round() as u64;
        said.push("the full test's time");
    }
    if let Some(secs) = seconds_in("target/kernel/install-seconds")? {
        m.kernel_build_minutes = (secs / 6.0).round() / 10.0;
        said.push("the kernel's build time");
    }
    write_json(&path, &m.to_json())?;
    for (file, rewrite) in TEXTS {
        let p = root.join(file);
        fs::write(&p, rewrite(&read(&p)?, &m)?)
            .map_err(|e| format!("{}: {e}", p.display()))?;
    }
    if said.is_empty() {
        println!(
            "measured: nothing new in target/ (run `cargo xtask test` first); texts rewritten from xtask/measured.json"
        );
    } else {
        println!(
            "measured: copied {} into xtask/measured.json, README.md and notebooks/README.md",
            said.join(", ")
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::test_root;

    #[test]
    fn every_quoted_time_is_the_measured_one() {
        let m = Measured::built_in();
        for (file, rewrite) in TEXTS {
            let text = fs::read_to_string(test_root().join(file)).unwrap();
            let wanted = rewrite(&text, &m).unwrap();
            let differ: Vec<_> = text
                .lines()
                .zip(wanted.lines())
                .filter(|(a, b)| a != b)
                .collect();
            assert!(
                differ.is_empty(),
                "{file} quotes a time that is not in xtask/measured.json (run `cargo xtask measured`): {differ:#?}"
            );
        }
    }

    #[test]
    fn every_lesson_has_a_run_time() {
        let m = Measured::built_in();
        for entry in fs::read_dir(test_root().join("notebooks")).unwrap() {
            let name = entry.unwrap().file_name().to_string_lossy().to_string();
            if name.ends_with(".ipynb") {
                assert!(
                    m.run_seconds.contains_key(&name[..2]),
                    "{name}: no run time in xtask/measured.json"
                );
            }
        }
    }

    #[test]
    fn rewriting_replaces_only_the_figures() {
        let m = Measured {
            kernel_build_minutes: 6.5,
            python_packages_seconds: 20,
            test_minutes: 31,
            run_seconds: BTreeMap::from([("05".into(), 9)]),
        };
        assert_eq!(m.setup_minutes(), 7, "6.5 min + 20 s, rounded up");
        let guide = "`cargo xtask setup` (about 8 minutes on an\n| [05 · Tokio](05.ipynb) | q | 45 min | 42 s |\n| [99 · x](x) | q | 1 min | 3 s |\n";
        assert_eq!(
            teachers_guide(guide, &m).unwrap(),
            "`cargo xtask setup` (about 7 minutes on an\n| [05 · Tokio](05.ipynb) | q | 45 min | 9 s |\n| [99 · x](x) | q | 1 min | 3 s |\n"
        );
        assert!(
            set_between("a **1** b **2**", "t", "**", "**", "x")
                .unwrap_err()
                .contains("twice")
        );
        assert!(
            set_between("abc", "t", "x", "y", "z")
                .unwrap_err()
                .contains("no longer says")
        );
    }
}
