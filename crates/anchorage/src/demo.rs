//! The demo: placeholder.
use std::path::Path;
/// Runs the demo.
pub fn run(_keep: Option<&Path>) -> anyhow::Result<String> {
    Ok(String::new())
}
