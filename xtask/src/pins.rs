//! The crates the notebooks `:dep`, pinned in one list: `xtask/crates.txt`.
//!
//! Every claim the course asserts (thread names, worker counts, scheduling) rests
//! on these crates' behaviour, so a notebook must not float to a new release under
//! a learner's feet, and a room `warm`ed for offline use must have exactly the
//! versions the notebooks ask for. `cargo xtask pins` rewrites every notebook's
//! `:dep` line from the list; `xtask/tests/pins.rs` fails when one disagrees.

use crate::flags;
use crate::notebooks::notebooks;
use crate::util::Result;
use std::fs;
use std::path::Path;

/// The pinned `:dep` lines of `xtask/crates.txt`, in order.
pub fn pinned(root: &Path) -> Result<Vec<String>> {
    let path = root.join("xtask/crates.txt");
    let text =
        fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(text
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with(":dep "))
        .map(str::to_string)
        .collect())
}

/// The crate a `:dep` line adds (`:dep tokio = ...` gives `tokio`).
pub fn crate_of(dep_line: &str) -> Option<&str> {
    let rest = dep_line.trim().strip_prefix(":dep ")?;
    let name = rest.split(['=', ' ']).next()?.trim();
    (!name.is_empty()).then_some(name)
}

impl flags::Pins {
    pub fn run(self, root: &Path) -> Result<()> {
        rewrite(root)
    }
}

/// `cargo xtask pins`: every notebook's `:dep` line for a pinned crate becomes the
/// list's line. Only those lines of the files change, byte for byte.
fn rewrite(root: &Path) -> Result<()> {
    let pins = pinned(root)?;
    let mut changed = 0;
    for nb in notebooks(root)? {
        let text =
            fs::read_to_string(&nb).map_err(|e| format!("{}: {e}", nb.display()))?;
        let new = rewrite_notebook(&text, &pins)
            .map_err(|e| format!("{}: {e}", nb.display()))?;
        if new != text {
            fs::write(&nb, &new).map_err(|e| format!("{}: {e}", nb.display()))?;
            println!("pins: {}", nb.strip_prefix(root).unwrap_or(&nb).display());
            changed += 1;
        }
    }
    println!("pins: {changed} notebook(s) rewritten from xtask/crates.txt");
    Ok(())
}

/// Rewrites the source lines of a notebook file (nbformat's layout: one JSON
/// string per source line) that `:dep` a pinned crate.
fn rewrite_notebook(text: &str, pins: &[String]) -> Result<String> {
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let body = line.trim_end_matches(['\n', '\r']);
        let indent = &body[..body.len() - body.trim_start().len()];
        let item = body.trim_start();
        let (json, comma) = match item.strip_suffix(',') {
            Some(j) => (j, ","),
            None => (item, ""),
        };
        if !json.starts_with("\":dep ") {
            out.push_str(line);
            continue;
        }
        let source: String = serde_json::from_str(json).map_err(|e| {
            format!("a `:dep` source line that is not a JSON string: {e}")
        })?;
        let ending = &source[source.trim_end_matches('\n').len()..];
        let Some(pin) = crate_of(&source)
            .and_then(|name| pins.iter().find(|p| crate_of(p) == Some(name)))
        else {
            out.push_str(line);
            continue;
        };
        let new = serde_json::to_string(&format!("{pin}{ending}"))
            .map_err(|e| e.to_string())?;
        out.push_str(&format!("{indent}{new}{comma}{}", &line[body.len()..]));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_dep_lines_of_pinned_crates_change() {
        let nb = "   \"source\": [\n    \":cache 2000\\n\",\n    \":dep helpers = { path = \\\"../helpers\\\" }\\n\",\n    \":dep tokio = { version = \\\"1\\\", features = [\\\"full\\\"] }\\n\",\n    \":dep smol = \\\"2\\\"\"\n   ]\n";
        let pins = vec![
            r#":dep tokio = { version = "=1.54.1", features = ["full"] }"#
                .to_string(),
            r#":dep smol = "=2.0.2""#.to_string(),
        ];
        let out = rewrite_notebook(nb, &pins).unwrap();
        assert_eq!(
            out,
            "   \"source\": [\n    \":cache 2000\\n\",\n    \":dep helpers = { path = \\\"../helpers\\\" }\\n\",\n    \":dep tokio = { version = \\\"=1.54.1\\\", features = [\\\"full\\\"] }\\n\",\n    \":dep smol = \\\"=2.0.2\\\"\"\n   ]\n"
        );
        assert_eq!(rewrite_notebook(&out, &pins).unwrap(), out, "idempotent");
    }

    #[test]
    fn crate_names() {
        assert_eq!(crate_of(r#":dep tokio = { version = "1" }"#), Some("tokio"));
        assert_eq!(crate_of(r#":dep smol="2""#), Some("smol"));
        assert_eq!(crate_of(":cache 2000"), None);
    }
}
