//! Which notebooks a command works on: every one under `notebooks/`, or those a
//! learner or teacher named by part of their path (`cargo xtask test 03 09b`).

use crate::util::Result;
use std::ffi::OsStr;
use std::fs;
use std::path::{Path, PathBuf};

/// Every notebook under `notebooks/`, in reading order.
pub fn notebooks(root: &Path) -> Result<Vec<PathBuf>> {
    files_under(&root.join("notebooks"), &["ipynb"])
}

/// Every file under `dir` whose extension is one of `extensions`, sorted; hidden
/// files and folders (`.ipynb_checkpoints/`, the warm-up notebook) are skipped.
pub fn files_under(dir: &Path, extensions: &[&str]) -> Result<Vec<PathBuf>> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let entries =
            fs::read_dir(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        for entry in entries.flatten() {
            let path = entry.path();
            let hidden = entry.file_name().to_string_lossy().starts_with('.');
            if hidden {
                continue;
            }
            if path.is_dir() {
                stack.push(path);
            } else if path
                .extension()
                .is_some_and(|e| extensions.iter().any(|x| e == OsStr::new(x)))
            {
                found.push(path);
            }
        }
    }
    found.sort();
    Ok(found)
}

/// `p` below `root`, as commands print it.
pub fn relative<'a>(root: &Path, p: &'a Path) -> &'a Path {
    p.strip_prefix(root).unwrap_or(p)
}

/// The notebooks whose path (under the repository) contains one of `patterns`;
/// every pattern must match at least one, so a typo is an error, not a skip.
pub fn matching(
    root: &Path,
    all: Vec<PathBuf>,
    patterns: &[String],
) -> Result<Vec<PathBuf>> {
    let name = |p: &PathBuf| relative(root, p).to_string_lossy().replace('\\', "/");
    if let Some(unmatched) = patterns
        .iter()
        .find(|pat| !all.iter().any(|p| name(p).contains(pat.as_str())))
    {
        return Err(format!(
            "no notebook under notebooks/ matches {unmatched:?}"
        ));
    }
    Ok(all
        .into_iter()
        .filter(|p| {
            patterns.is_empty()
                || patterns.iter().any(|pat| name(p).contains(pat.as_str()))
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::env;

    #[test]
    fn test_and_strip_never_see_the_learners_copy() {
        let root =
            env::temp_dir().join(format!("xtask-main-{}", std::process::id()));
        for dir in ["notebooks/exercises", "my-notebooks/exercises"] {
            fs::create_dir_all(root.join(dir)).unwrap();
        }
        for file in [
            "notebooks/01-a.ipynb",
            "notebooks/exercises/01a-x.ipynb",
            "my-notebooks/01-a.ipynb",
            "my-notebooks/exercises/01a-x.ipynb",
        ] {
            fs::write(root.join(file), "{}").unwrap();
        }
        let found = notebooks(&root).unwrap();
        let _ = fs::remove_dir_all(&root);
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(
            found
                .iter()
                .all(|p| !p.starts_with(root.join("my-notebooks")))
        );
    }

    #[test]
    fn every_pattern_must_match_a_notebook() {
        let root = Path::new("/r");
        let all = vec![
            root.join("notebooks/02-a.ipynb"),
            root.join("notebooks/05-b.ipynb"),
        ];
        let both = matching(root, all.clone(), &["02".into(), "05".into()]).unwrap();
        assert_eq!(both.len(), 2);
        let err = matching(root, all, &["02".into(), "5x".into()]).unwrap_err();
        assert!(err.contains("\"5x\""), "{err}");
    }
}
