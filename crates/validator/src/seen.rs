//! What a one-shot validation remembers of the manifests it validated,
//! so that the next run can tell a manifest that goes back.
//!
//! RFC 9286 §4.2.1: "Each RP MUST verify that a purported "new" manifest
//! contains a higher manifestNumber than previously validated manifests"
//! and that its thisUpdate "is greater (more recent) than the most recent
//! manifest it has validated". [`crate::Live`] keeps each point's whole
//! result between runs in memory (`serve`); `anchorage validate` runs once
//! and keeps only this record, in its cache directory, so a point whose
//! manifest went back is rejected (it has no earlier result to fall back
//! on, RFC 9286 §6.6).

use std::collections::HashMap;
use std::fs;
use std::io;
use std::path::Path;

use rpki::repository::x509::{Serial, Time};

/// How long an entry is kept after its manifest's nextUpdate: a manifest
/// older than it is stale by then (its own nextUpdate is no later, give
/// or take the issuer's jitter), and rejected as such.
const KEEP_AFTER_NEXT_UPDATE: chrono::TimeDelta = chrono::TimeDelta::days(1);

/// One manifest validated: its number, thisUpdate, nextUpdate and hash.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SeenManifest {
    /// Its manifestNumber.
    pub number: Serial,
    /// Its thisUpdate.
    pub this_update: Time,
    /// Its nextUpdate.
    pub next_update: Time,
    /// The SHA-256 of its bytes: the same manifest fetched again is not
    /// a new one.
    pub hash: [u8; 32],
}

/// The manifests validated before, by URI.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Seen {
    manifests: HashMap<String, SeenManifest>,
}

impl Seen {
    /// The record in `path`; empty if there is none. A line that cannot
    /// be read is skipped: the record only ever adds checks.
    pub fn load(path: &Path) -> io::Result<Seen> {
        let text = match fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Seen::default()),
            Err(e) => return Err(e),
        };
        let manifests = text.lines().filter_map(parse_line).collect();
        Ok(Seen { manifests })
    }

    /// Writes the record to `path` (through a temporary file of its own
    /// and a rename), leaving out manifests whose nextUpdate passed more than a
    /// day before `now`.
    pub fn save(&self, path: &Path, now: Time) -> io::Result<()> {
        let mut lines: Vec<String> = self
            .manifests
            .iter()
            .filter(|(_, m)| *m.next_update + KEEP_AFTER_NEXT_UPDATE > *now)
            .map(|(uri, m)| {
                format!(
                    "{uri}\t{}\t{}\t{}\t{}\n",
                    m.number,
                    m.this_update.timestamp(),
                    m.next_update.timestamp(),
                    hex(&m.hash)
                )
            })
            .collect();
        lines.sort();
        // A temporary file of its own, so that runs sharing a cache never
        // write into one another's; the last to finish is kept.
        let dir = path.parent().unwrap_or(Path::new("."));
        let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
        io::Write::write_all(&mut tmp, lines.concat().as_bytes())?;
        tmp.as_file().sync_all()?;
        tmp.persist(path).map(drop).map_err(|e| e.error)
    }

    /// The manifest validated before at `uri`, if any.
    pub fn get(&self, uri: &str) -> Option<SeenManifest> {
        self.manifests.get(uri).copied()
    }

    /// Records the manifest at `uri` as validated.
    pub fn insert(&mut self, uri: &str, manifest: SeenManifest) {
        self.manifests.insert(uri.to_string(), manifest);
    }

    /// How many manifests it holds.
    pub fn len(&self) -> usize {
        self.manifests.len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.manifests.is_empty()
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<[u8; 32]> {
    if text.len() != 64 || !text.is_ascii() {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&text[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(out)
}

fn time(text: &str) -> Option<Time> {
    chrono::DateTime::from_timestamp(text.parse().ok()?, 0).map(Time::new)
}

fn parse_line(line: &str) -> Option<(String, SeenManifest)> {
    let mut fields = line.split('\t');
    let uri = fields.next()?.to_string();
    let manifest = SeenManifest {
        number: fields.next()?.parse().ok()?,
        this_update: time(fields.next()?)?,
        next_update: time(fields.next()?)?,
        hash: unhex(fields.next()?)?,
    };
    fields.next().is_none().then_some((uri, manifest))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Time {
        text.parse().unwrap()
    }

    #[test]
    fn a_record_reads_back_as_written_less_what_expired() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("manifests");
        assert!(Seen::load(&path).unwrap().is_empty());
        let mut seen = Seen::default();
        let m = |n: u64, next: &str| SeenManifest {
            number: Serial::from(n),
            this_update: at("2026-12-01T10:00:00Z"),
            next_update: at(next),
            hash: [n as u8; 32],
        };
        seen.insert("rsync://h/repo/a/a.mft", m(7, "2026-12-02T10:00:00Z"));
        seen.insert(
            "rsync://h/repo/b/b.mft",
            m(1_000_000, "2026-12-05T10:00:00Z"),
        );
        seen.save(&path, at("2026-12-03T12:00:00Z")).unwrap();
        let back = Seen::load(&path).unwrap();
        assert_eq!(back.len(), 1, "a's nextUpdate passed more than a day ago");
        assert_eq!(
            back.get("rsync://h/repo/b/b.mft"),
            Some(m(1_000_000, "2026-12-05T10:00:00Z"))
        );
        // A damaged line is skipped, the others kept.
        let text = fs::read_to_string(&path).unwrap();
        fs::write(&path, format!("garbage\tline\n{text}")).unwrap();
        assert_eq!(Seen::load(&path).unwrap(), back);
    }
}
