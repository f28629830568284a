//! The keys of a CA beside its active one (RFC 6489): a new key in its
//! staging period, certified by the parent and publishing an empty
//! manifest and CRL, until it is activated; and, under a remote parent,
//! the old key after activation, publishing an empty manifest and CRL
//! until the parent has revoked its certificate.
//!
//! The active key's publication point is stored under the CA's handle, as
//! it always was. Another key's point is stored under [`key_dir`]
//! (`HANDLE@KEYID`, which no handle can be) and written to the same
//! directory of the repository: both keys' manifests and CRLs are named
//! after their key, and each manifest lists only its own key's files.
//! Activation moves the new key's rows to the handle ([`Tx::promote_key`]).

use crate::sql::{Row, args};
use anchorage_ca_core::CaRecord;
use bytes::Bytes;
use rpki::crypto::KeyIdentifier;
use rpki::repository::x509::{Serial, Time};

use crate::{Result, Tx, corrupt, from_secs, parse_serial, to_secs};

/// The storage directory of a CA key's publication point other than the
/// active one: `HANDLE@KEYID`.
pub fn key_dir(handle: &str, key: &KeyIdentifier) -> String {
    format!("{handle}@{key}")
}

/// The repository directory a storage directory is published in: the
/// handle of `HANDLE@KEYID`, anything else as it is.
pub fn published_dir(dir: &str) -> &str {
    dir.split_once('@').map_or(dir, |(handle, _)| handle)
}

/// Where a CA key is in its rollover.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyState {
    /// Certified and publishing an empty manifest and CRL; activated when
    /// its staging period has passed (RFC 6489 §2).
    New,
    /// Replaced by the new key; its products withdrawn, its empty
    /// manifest and CRL published until the remote parent revokes its
    /// certificate (RFC 6492 revoke), then deleted.
    Old,
}

impl KeyState {
    /// The state's name as stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            KeyState::New => "new",
            KeyState::Old => "old",
        }
    }

    fn parse(s: &str) -> Result<KeyState> {
        match s {
            "new" => Ok(KeyState::New),
            "old" => Ok(KeyState::Old),
            other => Err(corrupt("key state", other)),
        }
    }
}

/// A CA key other than the active one, with its certificate.
#[derive(Clone, Debug)]
pub struct CaKey {
    /// The CA's handle.
    pub ca: String,
    /// The key.
    pub key: KeyIdentifier,
    /// Where it is in its rollover.
    pub state: KeyState,
    /// Its certificate from the parent.
    pub cert: Bytes,
    /// The certificate's serial.
    pub cert_serial: Serial,
    /// The certificate's notAfter.
    pub cert_not_after: Time,
    /// Where a remote parent published the certificate; `None` for a
    /// certificate issued here.
    pub cert_uri: Option<String>,
    /// When the key entered its state (a rollover's start, an activation).
    pub started: Time,
    /// When the next stage is due: a new key's activation, an old key's
    /// revocation at the remote parent.
    pub due: Time,
}

impl CaKey {
    /// The CA record as this key would make it: the CA's handle, parent
    /// and resources with this key and certificate (for its issuer).
    pub fn as_record(&self, ca: &CaRecord) -> CaRecord {
        CaRecord {
            key: self.key,
            cert: self.cert.clone(),
            cert_serial: self.cert_serial,
            cert_not_after: self.cert_not_after,
            cert_uri: self.cert_uri.clone(),
            ..ca.clone()
        }
    }

    /// The storage directory of this key's publication point.
    pub fn dir(&self) -> String {
        key_dir(&self.ca, &self.key)
    }
}

const KEY_COLUMNS: &str =
    "ca, key_id, state, cert, cert_serial, cert_not_after, cert_uri, started, due";

fn key_from_row(r: &mut Row) -> Result<CaKey> {
    let (ca, key, state, cert): (String, String, String, Vec<u8>) =
        (r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?);
    let (serial, not_after, cert_uri): (String, i64, Option<String>) =
        (r.get(4)?, r.get(5)?, r.get(6)?);
    let (started, due): (i64, i64) = (r.get(7)?, r.get(8)?);
    Ok(CaKey {
        ca,
        key: key
            .parse::<KeyIdentifier>()
            .map_err(|_| corrupt("key identifier", &key))?,
        state: KeyState::parse(&state)?,
        cert: Bytes::from(cert),
        cert_serial: parse_serial(&serial)?,
        cert_not_after: from_secs(not_after)?,
        cert_uri,
        started: from_secs(started)?,
        due: from_secs(due)?,
    })
}

impl Tx<'_> {
    /// The keys of CA `handle` beside its active one.
    pub fn ca_keys(&self, handle: &str) -> Result<Vec<CaKey>> {
        self.rows(
            &format!("SELECT {KEY_COLUMNS} FROM ca_keys WHERE ca = ?1 ORDER BY started, key_id"),
            args![handle],
            key_from_row,
        )
    }

    /// Every CA's keys beside the active ones, soonest due first; on the
    /// same due time parents before children (creation order).
    pub fn all_ca_keys(&self) -> Result<Vec<CaKey>> {
        self.rows(
            &format!(
                "SELECT {KEY_COLUMNS} FROM ca_keys
                 ORDER BY due, (SELECT rowid FROM cas WHERE handle = ca), key_id"
            ),
            args![],
            key_from_row,
        )
    }

    /// The earliest due stage of any rollover the scheduler runs (the
    /// trust anchor's stages are taken by hand).
    pub fn next_key_stage(&self) -> Result<Option<Time>> {
        let due: Option<i64> = self.row(
            "SELECT min(due) FROM ca_keys WHERE ca <> ?1",
            args![anchorage_ca_core::ca::TA_HANDLE],
            |r| r.get(0),
        )?;
        due.map(from_secs).transpose()
    }

    /// Inserts a new key with an empty publication point numbered from 1.
    pub fn insert_ca_key(&self, key: &CaKey) -> Result<()> {
        self.exec(
            "INSERT INTO ca_keys (ca, key_id, state, cert, cert_serial, cert_not_after,
                                  cert_uri, started, due, next_manifest_number, next_crl_number)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 1, 1)",
            args![
                key.ca,
                key.key.to_string(),
                key.state.as_str(),
                key.cert.as_ref(),
                key.cert_serial.to_string(),
                to_secs(key.cert_not_after),
                key.cert_uri,
                to_secs(key.started),
                to_secs(key.due),
            ],
        )?;
        Ok(())
    }

    /// Stores a key's new certificate (reissued by its parent).
    pub fn update_ca_key_cert(&self, key: &CaKey) -> Result<()> {
        self.exec(
            "UPDATE ca_keys SET cert = ?3, cert_serial = ?4, cert_not_after = ?5
             WHERE ca = ?1 AND key_id = ?2",
            args![
                key.ca,
                key.key.to_string(),
                key.cert.as_ref(),
                key.cert_serial.to_string(),
                to_secs(key.cert_not_after),
            ],
        )?;
        Ok(())
    }

    /// Notes, on CA `handle`'s old key, the audit generation of the
    /// activation that replaced it: the key is revoked only once a tree
    /// (and a push) of that generation or later is out.
    pub fn set_activated_generation(
        &self,
        handle: &str,
        key: &KeyIdentifier,
        generation: i64,
    ) -> Result<()> {
        self.exec(
            "UPDATE ca_keys SET activated_generation = ?3 WHERE ca = ?1 AND key_id = ?2",
            args![handle, key.to_string(), generation],
        )?;
        Ok(())
    }

    /// The audit generation of the activation that made `key` old, if set.
    pub fn activated_generation(&self, handle: &str, key: &KeyIdentifier) -> Result<Option<i64>> {
        Ok(self
            .opt_row(
                "SELECT activated_generation FROM ca_keys WHERE ca = ?1 AND key_id = ?2",
                args![handle, key.to_string()],
                |r| r.get::<Option<i64>>(0),
            )?
            .flatten())
    }

    /// The latest mtime of any file in CA `handle`'s directory, whatever
    /// key's point it belongs to: files an activation moves between
    /// points get later mtimes than this, so rsync never takes a changed
    /// file for an unchanged one.
    pub fn dir_mtime(&self, handle: &str) -> Result<Option<i64>> {
        self.row(
            "SELECT max(mtime) FROM objects
             WHERE dir = ?1 OR substr(dir, 1, length(?1) + 1) = ?1 || '@'",
            args![handle],
            |r| r.get(0),
        )
    }

    /// Sets when a key's next stage is due (an old key whose revocation
    /// has to wait).
    pub fn set_ca_key_due(&self, handle: &str, key: &KeyIdentifier, due: Time) -> Result<()> {
        self.exec(
            "UPDATE ca_keys SET due = ?3 WHERE ca = ?1 AND key_id = ?2",
            args![handle, key.to_string(), to_secs(due)],
        )?;
        Ok(())
    }

    /// Turns CA `handle`'s active key into an old key (under a remote
    /// parent, before [`Self::promote_key`] makes the new one active):
    /// its certificate and numbers go to a `ca_keys` row due for
    /// revocation at `due`, its point moves to [`key_dir`].
    pub fn demote_active(&self, handle: &str, now: Time, due: Time) -> Result<()> {
        let key: String = self.row(
            "SELECT key_id FROM cas WHERE handle = ?1",
            args![handle],
            |r| r.get(0),
        )?;
        self.exec(
            "INSERT INTO ca_keys (ca, key_id, state, cert, cert_serial, cert_not_after, cert_uri,
                                  started, due, next_manifest_number, next_crl_number)
             SELECT handle, key_id, 'old', cert, cert_serial, cert_not_after, cert_uri,
                    ?2, ?3, next_manifest_number, next_crl_number
             FROM cas WHERE handle = ?1",
            args![handle, to_secs(now), to_secs(due)],
        )?;
        let dir = format!("{handle}@{key}");
        self.exec(
            "UPDATE objects SET dir = ?1 WHERE dir = ?2",
            args![dir, handle],
        )?;
        self.exec(
            "UPDATE revocations SET ca = ?1 WHERE ca = ?2",
            args![dir, handle],
        )?;
        Ok(())
    }

    /// Every key the store names: each CA's active key, the keys beside
    /// them, and the BPKI identity's key (as the text of their ids).
    pub fn named_keys(&self) -> Result<Vec<String>> {
        self.rows(
            "SELECT key_id FROM cas UNION SELECT key_id FROM ca_keys
             UNION SELECT value FROM meta WHERE key = 'bpki_key' ORDER BY 1",
            args![],
            |r| r.get(0),
        )
    }

    /// Makes a store restored from a backup safe to publish from (`anchorage
    /// restore`): every CA key's next manifest and CRL number is at least
    /// `floor`, every publication point owes a new manifest and CRL, and
    /// the RRDP session and `serve`'s self-validation record are
    /// forgotten, so the next RRDP serial starts a new session.
    pub fn prepare_restored(&self, floor: i64) -> Result<()> {
        for table in ["cas", "ca_keys"] {
            self.exec(
                &format!(
                    "UPDATE {table} SET
                     next_manifest_number = CASE WHEN next_manifest_number < ?1
                                            THEN ?1 ELSE next_manifest_number END,
                     next_crl_number = CASE WHEN next_crl_number < ?1
                                       THEN ?1 ELSE next_crl_number END"
                ),
                args![floor],
            )?;
        }
        self.exec(
            "INSERT INTO pending_points (handle)
             SELECT DISTINCT dir FROM objects WHERE name LIKE '%.mft'
             ON CONFLICT DO NOTHING",
            args![],
        )?;
        self.exec(
            "DELETE FROM meta WHERE key IN ('rrdp_session', 'self_validation')",
            args![],
        )?;
        Ok(())
    }

    /// Deletes a key beside the active one, with its publication point.
    pub fn delete_ca_key(&self, handle: &str, key: &KeyIdentifier) -> Result<()> {
        let dir = key_dir(handle, key);
        self.exec("DELETE FROM objects WHERE dir = ?1", args![dir])?;
        self.exec("DELETE FROM revocations WHERE ca = ?1", args![dir])?;
        self.exec("DELETE FROM pending_points WHERE handle = ?1", args![dir])?;
        self.exec(
            "DELETE FROM ca_keys WHERE ca = ?1 AND key_id = ?2",
            args![handle, key.to_string()],
        )?;
        Ok(())
    }

    /// Makes `key` CA `handle`'s active key: its certificate and numbers
    /// go to the CA, its publication point becomes the CA's, and the
    /// point of the key it replaces is dropped (its certificate is
    /// revoked by the caller, which makes everything it issued invalid).
    /// The CA's point version rises, as with every change of its point.
    pub fn promote_key(&self, handle: &str, key: &KeyIdentifier, now: Time) -> Result<()> {
        let dir = key_dir(handle, key);
        let key_id = key.to_string();
        let (cert, serial, not_after, mft, crl): (Vec<u8>, String, i64, i64, i64) = self.row(
            "SELECT cert, cert_serial, cert_not_after, next_manifest_number, next_crl_number
             FROM ca_keys WHERE ca = ?1 AND key_id = ?2",
            args![handle, key_id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
        )?;
        self.exec("DELETE FROM objects WHERE dir = ?1", args![handle])?;
        self.exec("DELETE FROM revocations WHERE ca = ?1", args![handle])?;
        self.exec(
            "UPDATE objects SET dir = ?1 WHERE dir = ?2",
            args![handle, dir],
        )?;
        self.exec(
            "UPDATE revocations SET ca = ?1 WHERE ca = ?2",
            args![handle, dir],
        )?;
        self.exec("DELETE FROM pending_points WHERE handle = ?1", args![dir])?;
        self.exec(
            "UPDATE cas SET key_id = ?2, cert = ?3, cert_serial = ?4, cert_not_after = ?5,
                            next_manifest_number = ?6, next_crl_number = ?7,
                            key_activated = ?8, point_version = point_version + 1,
                            cert_uri = (SELECT cert_uri FROM ca_keys
                                        WHERE ca = ?1 AND key_id = ?2)
             WHERE handle = ?1",
            args![
                handle,
                key_id,
                cert,
                serial,
                not_after,
                mft,
                crl,
                to_secs(now)
            ],
        )?;
        self.exec(
            "DELETE FROM ca_keys WHERE ca = ?1 AND key_id = ?2",
            args![handle, key_id],
        )?;
        Ok(())
    }

    /// When CA `handle`'s active key became active: its activation, or
    /// the CA's creation for a key never rolled.
    pub fn key_activated(&self, handle: &str) -> Result<Option<Time>> {
        let t: Option<i64> = self.opt_row(
            "SELECT coalesce(key_activated, created_at) FROM cas WHERE handle = ?1",
            args![handle],
            |r| r.get(0),
        )?;
        t.map(from_secs).transpose()
    }

    /// The CA that issues from storage directory `dir` (a handle, or
    /// [`key_dir`]), as that key makes it; `None` if there is none.
    pub fn point_owner(&self, dir: &str) -> Result<Option<CaRecord>> {
        let Some((handle, key)) = dir.split_once('@') else {
            return self.ca(dir);
        };
        let Some(ca) = self.ca(handle)? else {
            return Ok(None);
        };
        let key = self.opt_row(
            &format!("SELECT {KEY_COLUMNS} FROM ca_keys WHERE ca = ?1 AND key_id = ?2"),
            args![handle, key],
            key_from_row,
        )?;
        Ok(key.map(|k| k.as_record(&ca)))
    }
}
