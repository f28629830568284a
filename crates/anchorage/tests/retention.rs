//! Superseded rsync trees and RRDP snapshots go as soon as no client can
//! still need them, and a client never loses the state it is reading:
//! real rsync clients, slowed down, copy the repository from a real
//! `rsync --daemon` again and again while CLI commands publish change
//! after change; every copy is a whole state (each manifest's files all
//! there, with the hashes it lists). After the stream, only the current
//! tree and the one it replaced remain, the current and previous
//! snapshots, and the data directory is within three times the store plus
//! one repository state. A daemon out of the publisher's view (another
//! PID namespace) keeps its tree only through `anchorage rsync-readers`.

mod common;

use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};

use anchorage::audit::Actor;
use anchorage::clock::Clock;
use anchorage::datadir::DataDir;
use anchorage::ops::Anchorage;
use anchorage_ca_core::RoaPayload;
use common::{Cli, require};

/// Every manifest under `root` lists files that are there, with its
/// hashes; returns how many manifests were checked.
fn whole_state(root: &Path) -> Result<usize, String> {
    let mut manifests = 0;
    let mut dirs = vec![root.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).map_err(|e| e.to_string())? {
            let path = entry.map_err(|e| e.to_string())?.path();
            if path.is_dir() {
                dirs.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "mft") {
                continue;
            }
            let mft = rpki::repository::Manifest::decode(common::read(&path), true)
                .map_err(|e| format!("{}: {e}", path.display()))?;
            let content = mft.content();
            let alg = content.file_hash_alg();
            for item in content.iter() {
                let (file, hash) = item.into_pair();
                let name = String::from_utf8_lossy(file.as_ref()).into_owned();
                let bytes = std::fs::read(dir.join(&name))
                    .map_err(|e| format!("{} lists {name}: {e}", path.display()))?;
                rpki::repository::manifest::ManifestHash::new(hash, alg)
                    .verify(&bytes)
                    .map_err(|_| format!("{} lists {name} with another hash", path.display()))?;
            }
            manifests += 1;
        }
    }
    Ok(manifests)
}

/// The bytes under `path` (files only).
/// The bytes of the files below `path`, each file counted once however
/// many trees link it (what the disk holds).
fn size(path: &Path) -> u64 {
    fn walk(path: &Path, seen: &mut std::collections::HashSet<(u64, u64)>) -> u64 {
        use std::os::unix::fs::MetadataExt;
        let meta = std::fs::symlink_metadata(path).unwrap();
        if meta.is_dir() {
            std::fs::read_dir(path)
                .unwrap()
                .map(|e| walk(&e.unwrap().path(), seen))
                .sum()
        } else if seen.insert((meta.dev(), meta.ino())) {
            meta.len()
        } else {
            0
        }
    }
    walk(path, &mut Default::default())
}

fn count(dir: &Path, pred: &dyn Fn(&Path) -> bool) -> usize {
    let mut n = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if pred(&path) {
            n += 1;
        }
        if path.is_dir() {
            n += count(&path, pred);
        }
    }
    n
}

#[test]
fn clients_keep_whole_states_while_superseded_ones_are_removed() {
    require("rsync");
    let tmp = tempfile::tempdir().unwrap();
    let cli = Cli::init(&tmp.path().join("data"));
    cli.ca_create("lir", None, "AS64500-AS65500, 10.0.0.0/8");
    // Large enough (about a megabyte) that the daemon cannot hand a whole
    // copy to the socket buffers and be done: it reads the tree for as
    // long as the slowed client takes.
    let many: Vec<RoaPayload> = (0..500u32)
        .map(|i| {
            let prefix = format!("10.{}.{}.0/24", 100 + i / 256, i % 256);
            RoaPayload::new(65000 - i, prefix.parse().unwrap(), None).unwrap()
        })
        .collect();
    Anchorage::open(DataDir::new(&cli.dir), Clock::System)
        .unwrap()
        .roa_batch_analysed(&Actor::operator(), "lir", &many, &[], Default::default())
        .unwrap();
    let work = tmp.path().join("work");
    let rsyncd = cli.serve(&work.join("rsyncd"));
    let done = AtomicBool::new(false);
    let copies = std::thread::scope(|s| {
        let reader = s.spawn(|| {
            let mut copies = Vec::new();
            let mut k = 0;
            while !done.load(Ordering::SeqCst) {
                k += 1;
                let copy = work.join(format!("copy{k}"));
                // Slowed to a few kB/s, a copy spans several publications.
                let out = Command::new("rsync")
                    .args(["-a", "--bwlimit=300"])
                    .arg(format!("rsync://127.0.0.1:{}/repo/", rsyncd.port()))
                    .arg(&copy)
                    .output()
                    .unwrap();
                assert!(
                    out.status.success(),
                    "copy {k}: rsync failed: {}",
                    String::from_utf8_lossy(&out.stderr)
                );
                copies.push(copy);
            }
            copies
        });
        for i in 0..30 {
            cli.ok(&[
                "roa",
                "add",
                "lir",
                "--asn",
                "64500",
                "--prefix",
                &format!("10.0.{i}.0/24"),
            ]);
        }
        done.store(true, Ordering::SeqCst);
        reader.join().unwrap()
    });
    assert!(copies.len() >= 2, "only {} copies", copies.len());
    for copy in &copies {
        let manifests = whole_state(copy).unwrap_or_else(|e| panic!("{}: {e}", copy.display()));
        assert!(manifests >= 3, "{}: {manifests} manifests", copy.display());
    }

    // Nobody is reading now: one more change leaves the current tree, the
    // one it replaced and one spare to bring forward next time, the
    // current snapshot and the previous one.
    cli.ok(&[
        "roa",
        "add",
        "lir",
        "--asn",
        "64500",
        "--prefix",
        "10.0.99.0/24",
    ]);
    let trees = std::fs::read_dir(cli.dir.join("rsync/trees"))
        .unwrap()
        .count();
    assert_eq!(trees, 3, "rsync trees kept");
    let snapshots = count(&cli.dir.join("rrdp"), &|p| {
        p.file_name().is_some_and(|n| n == "snapshot.xml")
    });
    assert_eq!(snapshots, 2, "RRDP snapshots kept");
    let store = size(&cli.dir.join("anchorage.db"))
        + ["anchorage.db-wal", "anchorage.db-shm"]
            .iter()
            .map(|f| std::fs::metadata(cli.dir.join(f)).map_or(0, |m| m.len()))
            .sum::<u64>();
    let state = size(&std::fs::canonicalize(cli.tree()).unwrap());
    let total = size(&cli.dir);
    assert!(
        total <= 3 * (store + state),
        "data directory {total} bytes, store {store}, one repository state {state}"
    );
}

/// A process named rsync inside the tree `current` names, as a daemon
/// serving a client is, and `anchorage rsync-readers` reporting it as
/// `name`, until [`Reported::stop`].
struct Reported {
    /// The tree read.
    tree: std::path::PathBuf,
    /// The report file.
    report: std::path::PathBuf,
    reader: std::process::Child,
    reporter: std::process::Child,
    _bin: tempfile::TempDir,
}

impl Reported {
    /// Starts both and waits until the report names the tree.
    fn start(cli: &Cli, name: &str) -> Reported {
        let tree = std::fs::canonicalize(cli.dir.join("rsync/current")).unwrap();
        let bin = tempfile::tempdir().unwrap();
        let fake = bin.path().join("rsync");
        std::fs::copy("/bin/sleep", &fake).unwrap();
        let reader = Command::new(&fake)
            .arg("60")
            .current_dir(&tree)
            .spawn()
            .unwrap();
        let reporter = Command::new(common::bin())
            .arg("--data-dir")
            .arg(&cli.dir)
            .args(["rsync-readers", "--name", name])
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let report = cli.dir.join("rsync/readers").join(name);
        let tree_name = tree.file_name().unwrap().to_string_lossy().into_owned();
        common::wait_until("the report names the tree read", 20, || {
            std::fs::read_to_string(&report).is_ok_and(|r| r.lines().any(|l| l == tree_name))
        });
        Reported {
            tree,
            report,
            reader,
            reporter,
            _bin: bin,
        }
    }

    /// Stops the reporter with SIGTERM, as a service manager does; it
    /// must exit successfully.
    fn stop(&mut self) {
        let term = Command::new("kill")
            .args(["-TERM", &self.reporter.id().to_string()])
            .status()
            .unwrap();
        assert!(term.success());
        let status = self.reporter.wait().unwrap();
        assert!(status.success(), "{status}");
    }
}

impl Drop for Reported {
    fn drop(&mut self) {
        let _ = self.reader.kill();
        let _ = self.reader.wait();
        let _ = self.reporter.kill();
        let _ = self.reporter.wait();
    }
}

/// `anchorage rsync-readers`, run beside an rsync daemon that the
/// publishing process cannot see, reports the trees the daemon's
/// processes are inside for as long as it runs, withdraws the report
/// when stopped, and refuses a name that is no file name.
#[test]
fn rsync_readers_reports_the_trees_in_use_until_stopped() {
    let tmp = tempfile::tempdir().unwrap();
    let cli = Cli::init(&tmp.path().join("data"));
    let mut reported = Reported::start(&cli, "rsyncd-1");
    // Reported again and again: a report older than 30 s counts no more.
    let first = std::fs::metadata(&reported.report)
        .unwrap()
        .modified()
        .unwrap();
    common::wait_until("the report is written again", 20, || {
        std::fs::metadata(&reported.report).is_ok_and(|m| m.modified().unwrap() > first)
    });
    reported.stop();
    assert!(!reported.report.exists(), "the report is withdrawn");

    for bad in ["", ".hidden", "a/b"] {
        let err = cli.fails(&["rsync-readers", "--name", bad]);
        assert!(err.contains("--name"), "{err}");
    }
    let err = Cli {
        dir: tmp.path().join("nothing"),
    }
    .fails(&["rsync-readers", "--name", "x"]);
    assert!(err.contains("does not exist"), "{err}");
    assert!(!tmp.path().join("nothing").exists());
}

/// A daemon out of the publisher's view: the CLI commands that publish
/// run in a PID namespace of their own (with its own `/proc`, as in
/// another container), the rsync process reading a tree in this one. With
/// `anchorage rsync-readers` reporting from here, the tree it reads stays
/// whole through the commands' writes; with the report withdrawn, the
/// commands cannot see the reader, and the next write takes the tree.
#[test]
fn a_tree_read_out_of_the_publishers_view_stays_while_reported() {
    let tmp = tempfile::tempdir().unwrap();
    let cli = Cli::init(&tmp.path().join("data"));
    cli.ca_create("lir", None, "AS64500-AS65500, 10.0.0.0/8");
    let out_of_view = |prefix: &str| {
        let out = Command::new("unshare")
            .args([
                "--pid",
                "--fork",
                "--mount-proc",
                common::bin(),
                "--data-dir",
            ])
            .arg(&cli.dir)
            .args(["roa", "add", "lir", "--asn", "64500", "--prefix", prefix])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "unshare (a PID namespace; the tests run as root) anchorage roa add: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let mut reported = Reported::start(&cli, "outside");
    let read = reported.tree.clone();
    let before = common::snapshot(&read);
    // Enough writes that, unreported, the tree would be the spare brought
    // forward, and then one set aside.
    for i in 0..4 {
        out_of_view(&format!("10.{i}.0.0/16"));
    }
    assert_ne!(std::fs::canonicalize(cli.tree()).unwrap(), read);
    assert_eq!(
        common::snapshot(&read),
        before,
        "the tree read stays as it was"
    );
    reported.stop();
    // Unreported, the reader is invisible to the commands: the next write
    // takes its tree (brought forward or set aside).
    out_of_view("10.9.0.0/16");
    assert!(!read.exists(), "without the report, the tree read is taken");
}
