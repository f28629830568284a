//! Configuration of the `rsync --daemon` that serves the rsync tree.

use std::fs;
use std::io;
use std::net::SocketAddr;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The module name of an `rsync://HOST/MODULE/` base URI.
pub fn module_name(rsync_base: &str) -> Option<&str> {
    let rest = rsync_base.strip_prefix("rsync://")?;
    let (_, path) = rest.split_once('/')?;
    let module = path.split('/').next()?;
    (!module.is_empty()).then_some(module)
}

/// Stops an rsync daemon left running by a `serve` that was killed, and
/// removes its pid file (rsync refuses to start while the file exists).
///
/// Only a process whose command line names `config` is stopped, so a
/// recycled pid of an unrelated process is never touched.
pub fn stop_stale(pid_file: &Path, config: &Path) {
    let Ok(text) = fs::read_to_string(pid_file) else {
        return;
    };
    if let Ok(pid) = text.trim().parse::<u32>() {
        let cmdline = fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        let ours = String::from_utf8_lossy(&cmdline).contains(&config.display().to_string());
        if ours {
            tracing::warn!(
                pid,
                "stopping an rsync daemon left over from a previous run"
            );
            let _ = Command::new("kill").arg(pid.to_string()).status();
            for _ in 0..100 {
                if !Path::new(&format!("/proc/{pid}")).exists() {
                    break;
                }
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
        }
    }
    let _ = fs::remove_file(pid_file);
}

/// Writes an rsyncd.conf serving `tree` read-only as `module`.
///
/// No chroot (the tree is a symlink that must resolve), and the daemon
/// reads files as the owner of the tree, since the data directory may be
/// private to that user.
pub fn write_config(
    config: &Path,
    module: &str,
    tree: &Path,
    log: &Path,
    pid_file: Option<&Path>,
) -> io::Result<()> {
    let meta = fs::metadata(tree.parent().unwrap_or(tree))?;
    let pid = pid_file
        .map(|p| format!("pid file = {}\n", p.display()))
        .unwrap_or_default();
    fs::write(
        config,
        format!(
            "# Written by anchorage; regenerated at every start.\n\
             use chroot = no\nuid = {}\ngid = {}\nlog file = {}\n{pid}\n\
             [{module}]\npath = {}\nread only = yes\nlist = yes\n",
            meta.uid(),
            meta.gid(),
            log.display(),
            tree.display()
        ),
    )
}

/// The command line of `rsync --daemon --no-detach` on `listen` with `config`.
pub fn command(program: &Path, config: &Path, listen: SocketAddr) -> Command {
    let mut cmd = Command::new(program);
    cmd.arg("--daemon")
        .arg("--no-detach")
        .arg(format!("--config={}", config.display()))
        .arg(format!("--address={}", listen.ip()))
        .arg(format!("--port={}", listen.port()));
    cmd
}

/// Where `serve` keeps the daemon's files: `DIR/run/`.
pub fn run_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("run")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn module_names() {
        assert_eq!(module_name("rsync://h/repo/"), Some("repo"));
        assert_eq!(module_name("rsync://h:873/repo/x/"), Some("repo"));
        assert_eq!(module_name("rsync://h/"), None);
        assert_eq!(module_name("https://h/repo/"), None);
    }
}
