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
    write(config, module, tree, log, pid_file, None)
}

/// How `serve`'s daemon is confined.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Confinement {
    /// The numeric user and group a daemon started by root serves as,
    /// chrooted into the tree (it enters the chroot as root, so the
    /// private data directory around the tree need not be readable by
    /// that user). `None`: the daemon is not root and cannot change user;
    /// it serves as the tree's owner, without chroot.
    pub run_as: Option<(u32, u32)>,
    /// Clients served at once; more are told to come back later.
    pub max_connections: u32,
    /// The lock file `max connections` needs.
    pub lock_file: PathBuf,
    /// Seconds of I/O silence after which a client is dropped.
    pub timeout: u32,
}

/// [`write_config`] for `serve`: confined as `how` says.
pub fn write_confined_config(
    config: &Path,
    module: &str,
    tree: &Path,
    log: &Path,
    pid_file: Option<&Path>,
    how: &Confinement,
) -> io::Result<()> {
    write(config, module, tree, log, pid_file, Some(how))
}

fn write(
    config: &Path,
    module: &str,
    tree: &Path,
    log: &Path,
    pid_file: Option<&Path>,
    how: Option<&Confinement>,
) -> io::Result<()> {
    let meta = fs::metadata(tree.parent().unwrap_or(tree))?;
    let pid = pid_file
        .map(|p| format!("pid file = {}\n", p.display()))
        .unwrap_or_default();
    // A daemon that is not root serves as itself: naming a user or group
    // makes it call setgroups(), which only root may, and it refuses
    // every client ("@ERROR: setgroups failed").
    let (ids, chroot) = match how.and_then(|h| h.run_as) {
        Some((uid, gid)) => (format!("uid = {uid}\ngid = {gid}\n"), "yes"),
        None if running_as_root() => (
            format!("uid = {}\ngid = {}\n", meta.uid(), meta.gid()),
            "no",
        ),
        None => (String::new(), "no"),
    };
    let limits = how
        .map(|h| {
            format!(
                "max connections = {}\nlock file = {}\ntimeout = {}\n",
                h.max_connections,
                h.lock_file.display(),
                h.timeout
            )
        })
        .unwrap_or_default();
    fs::write(
        config,
        format!(
            "# Written by anchorage; regenerated at every start.\n\
             use chroot = {chroot}\n{ids}log file = {}\n{pid}\n\
             [{module}]\npath = {}\nread only = yes\nlist = yes\n{limits}",
            log.display(),
            tree.display()
        ),
    )
}

/// Whether this process runs as root (and so may confine the daemon).
pub fn running_as_root() -> bool {
    rustix::process::geteuid().is_root()
}

/// The numeric user and group of system user `name` (from /etc/passwd).
pub fn lookup_user(name: &str) -> io::Result<(u32, u32)> {
    let passwd = fs::read_to_string("/etc/passwd")?;
    passwd
        .lines()
        .find_map(|line| {
            let f: Vec<&str> = line.split(':').collect();
            (f.len() >= 4 && f[0] == name)
                .then(|| Some((f[2].parse().ok()?, f[3].parse().ok()?)))?
        })
        .ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::NotFound,
                format!("no user '{name}' in /etc/passwd for rsyncd to serve as"),
            )
        })
}

/// The command line of `rsync --daemon --no-detach` on `listen` with `config`.
pub fn command(program: &Path, config: &Path, listen: SocketAddr) -> Command {
    let mut cmd = Command::new(program);
    // The daemon needs none of the secrets that unlock keys.
    for var in [
        "ANCHORAGE_KEY_PASSPHRASE",
        "ANCHORAGE_KEY_PASSPHRASE_FILE",
        "ANCHORAGE_KEY_FILE",
        "ANCHORAGE_PKCS11_PIN",
        "ANCHORAGE_PKCS11_PIN_FILE",
    ] {
        cmd.env_remove(var);
    }
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

    #[test]
    fn a_confined_daemon_changes_user_in_a_chroot() {
        let tmp = tempfile::tempdir().unwrap();
        let tree = tmp.path().join("current");
        fs::create_dir_all(&tree).unwrap();
        let conf = tmp.path().join("rsyncd.conf");
        let how = Confinement {
            run_as: Some((65534, 65534)),
            max_connections: 512,
            lock_file: tmp.path().join("rsyncd.lock"),
            timeout: 300,
        };
        write_confined_config(&conf, "repo", &tree, &tmp.path().join("log"), None, &how).unwrap();
        let text = fs::read_to_string(&conf).unwrap();
        for line in [
            "use chroot = yes",
            "uid = 65534",
            "gid = 65534",
            "max connections = 512",
            "timeout = 300",
        ] {
            assert!(text.contains(line), "{line} missing in\n{text}");
        }
        let how = Confinement {
            run_as: None,
            ..how
        };
        write_confined_config(&conf, "repo", &tree, &tmp.path().join("log"), None, &how).unwrap();
        assert!(
            fs::read_to_string(&conf)
                .unwrap()
                .contains("use chroot = no")
        );
        assert!(lookup_user("root").is_ok_and(|(u, g)| u == 0 && g == 0));
        assert!(lookup_user("no-such-user-here").is_err());
    }
}
