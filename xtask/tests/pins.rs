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
