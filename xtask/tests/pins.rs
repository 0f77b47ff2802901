//! environment.yml (conda, Binder) and xtask/requirements.txt (pip) must pin the same
//! Python packages at the same versions, or two ways into the course would differ.

use std::collections::BTreeMap;
use std::path::Path;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap()
}

/// `name==version` lines of the pip requirements file.
fn pip_pins() -> BTreeMap<String, String> {
    let text =
        std::fs::read_to_string(root().join("xtask/requirements.txt")).unwrap();
    text.lines()
        .map(|l| l.split('#').next().unwrap().trim())
        .filter(|l| !l.is_empty())
        .map(|l| {
            let (name, version) = l.split_once("==").unwrap_or_else(|| {
                panic!("requirements.txt: `{l}` is not pinned with ==")
            });
            (name.trim().to_lowercase(), version.trim().to_string())
        })
        .collect()
}

/// `- name=version` dependencies of environment.yml (conda's single `=`).
fn conda_pins() -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(root().join("environment.yml")).unwrap();
    text.lines()
        .filter_map(|l| l.trim().strip_prefix("- "))
        .filter_map(|dep| {
            let (name, version) = dep.split_once('=')?;
            (!name.ends_with(['>', '<'])).then(|| {
                (
                    name.trim().to_lowercase(),
                    version.trim_start_matches('=').to_string(),
                )
            })
        })
        .collect()
}

#[test]
fn conda_and_pip_pin_the_same_versions() {
    let pip = pip_pins();
    let conda = conda_pins();
    assert!(pip.len() >= 4, "requirements.txt pins too little: {pip:?}");
    for (name, version) in &pip {
        assert_eq!(
            conda.get(name),
            Some(version),
            "environment.yml must pin {name}={version} like xtask/requirements.txt"
        );
    }
}

#[test]
fn conda_pins_python_and_rust() {
    let text = std::fs::read_to_string(root().join("environment.yml")).unwrap();
    assert!(text.contains("- conda-forge"), "conda-forge channel");
    assert!(conda_pins().contains_key("python"), "a pinned Python");
    assert!(text.contains("- rust"), "Rust from conda-forge");
}

/// The pinned `:dep` lines of xtask/crates.txt.
fn crate_pins() -> Vec<String> {
    std::fs::read_to_string(root().join("xtask/crates.txt"))
        .unwrap()
        .lines()
        .filter(|l| l.starts_with(":dep "))
        .map(|l| l.trim().to_string())
        .collect()
}

fn crate_name(dep: &str) -> String {
    dep.trim_start_matches(":dep ")
        .split(['=', ' '])
        .next()
        .unwrap()
        .to_string()
}

/// Every notebook under notebooks/ (the course, exercises, solutions).
fn all_notebooks() -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![root().join("notebooks")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            let path = entry.path();
            if entry.file_name().to_string_lossy().starts_with('.') {
                continue;
            }
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "ipynb") {
                found.push(path);
            }
        }
    }
    found
}

#[test]
fn crates_are_pinned_to_exact_versions() {
    let pins = crate_pins();
    let names: Vec<String> = pins.iter().map(|p| crate_name(p)).collect();
    assert_eq!(
        names,
        ["tokio", "futures", "smol"],
        "xtask/crates.txt: {pins:?}"
    );
    for pin in &pins {
        assert!(
            pin.contains("\"=") && pin.chars().filter(|c| *c == '.').count() >= 2,
            "xtask/crates.txt: `{pin}` is not an exact `=x.y.z` version"
        );
    }
}

#[test]
fn every_notebook_deps_the_pinned_lines() {
    let pins = crate_pins();
    let mut checked = 0;
    for nb in all_notebooks() {
        let json: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&nb).unwrap()).unwrap();
        for cell in json["cells"].as_array().unwrap() {
            if cell["cell_type"] != "code" {
                continue;
            }
            let source: String = match &cell["source"] {
                serde_json::Value::Array(lines) => {
                    lines.iter().filter_map(|l| l.as_str()).collect()
                }
                other => other.as_str().unwrap_or_default().to_string(),
            };
            for line in source.lines().filter(|l| l.starts_with(":dep ")) {
                let name = crate_name(line);
                if name == "helpers" {
                    continue;
                }
                assert!(
                    pins.iter().any(|p| p == line.trim()),
                    "{}: `{line}` is not a line of xtask/crates.txt (run `cargo xtask \
                     pins`, or add {name} to the list)",
                    nb.display()
                );
                checked += 1;
            }
        }
    }
    assert!(
        checked >= 50,
        "only {checked} pinned :dep lines found: is the scan broken?"
    );
}

/// `(NN, minutes)` of each map row `| [NN · title](...NN-slug.ipynb) | ... | M |`
/// (or `| M min |` in the teacher's guide) found in `text`.
fn map_minutes(text: &str) -> BTreeMap<String, u64> {
    text.lines()
        .filter_map(|l| {
            let rest = l.strip_prefix("| [")?;
            let nn = rest.get(..2)?.to_string();
            nn.chars().all(|c| c.is_ascii_digit()).then_some(())?;
            let cells: Vec<&str> = l.split('|').map(str::trim).collect();
            let minutes = cells
                .iter()
                .rev()
                .find_map(|c| c.trim_end_matches(" min").parse::<u64>().ok())?;
            Some((nn, minutes))
        })
        .collect()
}

#[test]
fn every_map_gives_each_notebook_its_own_minutes() {
    let mut wanted = BTreeMap::new();
    for nb in all_notebooks() {
        if nb.parent() != Some(&root().join("notebooks")) {
            continue;
        }
        let json: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&nb).unwrap()).unwrap();
        let name = nb.file_name().unwrap().to_string_lossy().to_string();
        let minutes = json["metadata"]["course"]["minutes"]
            .as_u64()
            .unwrap_or_else(|| panic!("{name}: no metadata course.minutes"));
        wanted.insert(name[..2].to_string(), minutes);
    }
    let start_here: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("notebooks/00-start-here.ipynb"))
            .unwrap(),
    )
    .unwrap();
    let start_here_text: String = start_here["cells"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| c["source"].as_array().unwrap().iter())
        .filter_map(|l| l.as_str())
        .collect();
    for (map, text) in [
        (
            "README.md",
            std::fs::read_to_string(root().join("README.md")).unwrap(),
        ),
        (
            "notebooks/README.md",
            std::fs::read_to_string(root().join("notebooks/README.md")).unwrap(),
        ),
        ("00-start-here.ipynb", start_here_text),
    ] {
        let found = map_minutes(&text);
        for (nn, minutes) in &wanted {
            // 00 does not list itself with a link.
            if map == "00-start-here.ipynb" && nn == "00" {
                continue;
            }
            assert_eq!(
                found.get(nn),
                Some(minutes),
                "{map}: notebook {nn} should take {minutes} minutes, as its metadata says"
            );
        }
    }
}
