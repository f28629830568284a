//! Which notification files relying parties fetched, and when: what
//! decides whether a superseded snapshot can still be needed.
//!
//! A relying party reads the notification file, then the snapshot it
//! lists (or the deltas). Once a newer notification is out, the older
//! snapshot is needed only by a client that read the notification listing
//! it and is still downloading, and a delta no longer listed only by a
//! client that read a notification that still listed it. The HTTP server
//! records, per session and serial, the last time it served that serial's
//! notification file and the lowest delta serial it listed
//! ([`FetchLog::record`]); whichever process publishes next reads the
//! record ([`recent`]) and removes the superseded snapshots and unlisted
//! deltas that no notification served within
//! [`crate::repository::GRACE`] listed. The record is
//! a small file in the RRDP directory (`.fetched`, never served: the HTTP
//! server refuses names starting with a dot), so a CLI command publishing
//! beside `serve` sees what `serve` served.

use std::collections::{BTreeMap, HashSet};
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The record's file name in the RRDP directory.
pub const FILE: &str = ".fetched";

/// How often the record of one serial is rewritten at most: once a second
/// is plenty against a grace period of minutes.
const REWRITE_EVERY: Duration = Duration::from_secs(1);

fn unix(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs()
}

/// A notification file as served: which serial, and which deltas it
/// listed.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Served {
    /// The session id.
    pub session: String,
    /// The serial (its snapshot's).
    pub serial: u64,
    /// The lowest serial of the deltas it listed (`serial` if none).
    pub lowest: u64,
}

impl Served {
    /// Whether a client that read this notification may need the delta
    /// of `serial` in `session`.
    pub fn lists_delta(&self, session: &str, serial: u64) -> bool {
        self.session == session && self.lowest <= serial && serial <= self.serial
    }

    /// Whether it names the snapshot of `serial` in `session`.
    pub fn names_snapshot(&self, session: &str, serial: u64) -> bool {
        self.session == session && self.serial == serial
    }
}

/// The notification fetches of one HTTP server, kept in memory and in
/// `DIR/rrdp/.fetched`.
#[derive(Debug)]
pub struct FetchLog {
    path: PathBuf,
    /// What was served → last fetch, seconds since the epoch.
    seen: Mutex<BTreeMap<(String, u64, u64), u64>>,
}

impl FetchLog {
    /// The record of the RRDP files in `rrdp_dir`, going on from what a
    /// previous run recorded there.
    pub fn new(rrdp_dir: &Path) -> FetchLog {
        FetchLog::at(rrdp_dir.join(FILE))
    }

    /// The record of one of several `serve` instances that serve one
    /// RRDP directory (`.fetched-NAME`): each writes its own, and
    /// [`recent`] reads them all.
    pub fn of_instance(rrdp_dir: &Path, name: &str) -> FetchLog {
        FetchLog::at(rrdp_dir.join(format!("{FILE}-{name}")))
    }

    fn at(path: PathBuf) -> FetchLog {
        let text = fs::read_to_string(&path).unwrap_or_default();
        let seen = text
            .lines()
            .filter_map(|line| {
                let mut p = line.split(' ');
                let session = p.next()?.to_string();
                let serial = p.next()?.parse().ok()?;
                let lowest = p.next()?.parse().ok()?;
                let t = p.next()?.parse().ok()?;
                Some(((session, serial, lowest), t))
            })
            .collect();
        FetchLog {
            path,
            seen: Mutex::new(seen),
        }
    }

    /// Notes that notification `served` was served at `now`; writes the
    /// record when that notification is new to it or its last write is
    /// older than a second. Entries older than the grace period are
    /// dropped. A failed write is logged: it can only make a file go
    /// sooner.
    pub fn record(&self, served: &Served, now: SystemTime) {
        let now = unix(now);
        let Ok(mut seen) = self.seen.lock() else {
            return;
        };
        let key = (served.session.clone(), served.serial, served.lowest);
        let stale = seen
            .get(&key)
            .is_none_or(|last| now >= last + REWRITE_EVERY.as_secs());
        if !stale {
            return;
        }
        seen.insert(key, now);
        let grace = crate::repository::GRACE.as_secs();
        seen.retain(|_, t| *t + grace >= now);
        let mut text = String::new();
        for ((session, serial, lowest), t) in seen.iter() {
            text.push_str(&format!("{session} {serial} {lowest} {t}\n"));
        }
        let mut tmp = self.path.clone().into_os_string();
        tmp.push(".tmp");
        let tmp = PathBuf::from(tmp);
        let written = fs::File::create(&tmp)
            .and_then(|mut f| f.write_all(text.as_bytes()))
            .and_then(|()| fs::rename(&tmp, &self.path));
        if let Err(e) = written {
            tracing::warn!(path = %self.path.display(), error = %e, "could not record an RRDP notification fetch");
        }
    }
}

/// The notifications served within the grace period before `now`, as
/// recorded in `rrdp_dir` (by every instance that serves it).
pub fn recent(rrdp_dir: &Path, now: SystemTime) -> HashSet<Served> {
    let now = unix(now);
    let grace = crate::repository::GRACE.as_secs();
    let records = fs::read_dir(rrdp_dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            (name == FILE || name.starts_with(&format!("{FILE}-"))) && !name.ends_with(".tmp")
        });
    let text: String = records
        .filter_map(|e| fs::read_to_string(e.path()).ok())
        .collect();
    text.lines()
        .filter_map(|line| {
            let mut parts = line.split(' ');
            let session = parts.next()?.to_string();
            let serial = parts.next()?.parse().ok()?;
            let lowest = parts.next()?.parse().ok()?;
            let t: u64 = parts.next()?.parse().ok()?;
            (t + grace >= now).then_some(Served {
                session,
                serial,
                lowest,
            })
        })
        .collect()
}

/// The text of `bytes` from the first offset (of four) where it is valid
/// UTF-8 to the last valid character: a slice may cut a character.
fn text(bytes: &[u8]) -> &str {
    for start in 0..bytes.len().min(4) {
        match std::str::from_utf8(&bytes[start..]) {
            Ok(t) => return t,
            Err(e) if e.valid_up_to() > 0 => {
                return std::str::from_utf8(&bytes[start..start + e.valid_up_to()])
                    .unwrap_or_default();
            }
            Err(_) => {}
        }
    }
    ""
}

/// What a notification file lists, from its first and last bytes (`tail`
/// holding the whole file when `complete`): the session id and serial are
/// attributes of its root element, and the deltas are written newest
/// first, so the last delta element has the lowest serial. Where the tail
/// shows no delta of a longer file, `lowest` is 0: every delta counts as
/// listed, which errs on keeping files.
pub fn notification_served(head: &[u8], tail: &[u8], complete: bool) -> Option<Served> {
    let head = text(head);
    let attr = |name: &str| -> Option<&str> {
        let start = head.find(&format!(" {name}=\""))? + name.len() + 3;
        let len = head[start..].find('"')?;
        Some(&head[start..start + len])
    };
    let session = attr("session_id")?.to_string();
    let serial: u64 = attr("serial")?.parse().ok()?;
    let tail = text(tail);
    const DELTA: &str = "<delta serial=\"";
    let lowest = match tail.rfind(DELTA) {
        Some(at) => {
            let rest = &tail[at + DELTA.len()..];
            rest.find('"')
                .and_then(|end| rest[..end].parse::<u64>().ok())
                .unwrap_or(0)
        }
        None if complete => serial,
        None => 0,
    }
    .min(serial);
    Some(Served {
        session,
        serial,
        lowest,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fetches_are_recorded_and_expire() {
        let tmp = tempfile::tempdir().unwrap();
        let log = FetchLog::new(tmp.path());
        let t0 = UNIX_EPOCH + Duration::from_secs(1_000_000);
        let served = |serial, lowest| Served {
            session: "s1".into(),
            serial,
            lowest,
        };
        log.record(&served(7, 3), t0);
        log.record(&served(8, 4), t0 + Duration::from_secs(100));
        let now = t0 + Duration::from_secs(101);
        let got = recent(tmp.path(), now);
        assert_eq!(got, HashSet::from([served(7, 3), served(8, 4)]));
        assert!(served(7, 3).lists_delta("s1", 3) && !served(7, 3).lists_delta("s1", 2));
        assert!(served(7, 3).names_snapshot("s1", 7) && !served(7, 3).names_snapshot("s2", 7));
        // Past the grace period of the first fetch, only the second counts.
        let later = t0 + crate::repository::GRACE + Duration::from_secs(1);
        let got = recent(tmp.path(), later);
        assert_eq!(got, HashSet::from([served(8, 4)]));
        assert!(recent(&tmp.path().join("none"), now).is_empty());
    }

    #[test]
    fn what_a_notification_lists_is_read_from_its_ends() {
        let file = r#"<notification xmlns="http://www.ripe.net/rpki/rrdp" version="1" session_id="9df4b597-af9e-4dca-bdda-719cce2c4e28" serial="42">
  <snapshot uri="https://h/rrdp/s/42/r/snapshot.xml" hash="00"/>
  <delta serial="42" uri="https://h/rrdp/s/42/r/delta.xml" hash="00"/>
  <delta serial="41" uri="https://h/rrdp/s/41/r/delta.xml" hash="00"/>
</notification>"#;
        let b = file.as_bytes();
        let got = notification_served(&b[..200], &b[b.len() - 90..], false).unwrap();
        assert_eq!(
            (got.session.as_str(), got.serial, got.lowest),
            ("9df4b597-af9e-4dca-bdda-719cce2c4e28", 42, 41)
        );
        // No delta: the tail's last serial is the root's.
        let none = r#"<notification version="1" session_id="s" serial="1"><snapshot uri="u" hash="00"/></notification>"#;
        let got = notification_served(none.as_bytes(), none.as_bytes(), true).unwrap();
        assert_eq!((got.serial, got.lowest), (1, 1));
        // A tail that shows no delta of a longer file: every delta counts.
        let got = notification_served(&b[..200], b"\"/>\n</notification>", false).unwrap();
        assert_eq!(got.lowest, 0);
        assert_eq!(
            notification_served(b"<notification version=\"1\">", b"", true),
            None
        );
    }
}
