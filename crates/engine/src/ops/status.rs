//! The data directory's health, for `anchorage status`, and the record of
//! `serve`'s last self-validation it reports.

use super::{Anchorage, Result, meta_num, rfc3339, tree_is_behind};
use anchorage_ca_core::AspaDefinition;
use anchorage_ca_core::roa::RoaPayload;
use anchorage_ca_core::router::RouterKey;

use crate::report::{OverdueObject, SelfValidation, Status};

/// The `meta` key of [`SelfValidation`], as JSON.
const SELF_VALIDATION: &str = "self_validation";
/// The `meta` key of when the rsync tree was last written (seconds).
pub(super) const RSYNC_WRITTEN: &str = "rsync_written";
/// How many overdue objects, missing VRPs or rejected objects a report names.
pub const LISTED: usize = 20;

/// What the configuration asks a validation from the trust anchor to give.
#[derive(Clone, Debug, Default)]
pub struct Configured {
    /// Every ROA payload.
    pub roas: Vec<RoaPayload>,
    /// Every ASPA, once per CA that configures it.
    pub aspas: Vec<AspaDefinition>,
    /// Every certified router key.
    pub router_keys: Vec<RouterKey>,
}

impl Anchorage {
    /// Records `serve`'s last self-validation, for `anchorage status`.
    pub fn record_self_validation(&mut self, record: &SelfValidation) -> Result<()> {
        let json = serde_json::to_string(record).expect("a record serialises");
        let tx = self.store.transaction()?;
        tx.set_meta(SELF_VALIDATION, &json)?;
        tx.commit()?;
        Ok(())
    }

    /// The ROA payloads, ASPAs and router keys of every CA under this
    /// data directory's trust anchor (what a validation from its TAL
    /// reaches; CAs under a remote parent are left out), if the rsync
    /// tree of `generation` is the newest and shows every committed
    /// change; none otherwise (read in one transaction, so a validation
    /// of that tree can be compared with the configuration it shows).
    pub fn configured_shown_by(&mut self, generation: u64) -> Result<Option<Configured>> {
        let tx = self.store.read_transaction()?;
        let shown =
            meta_num(&tx, "rsync_generation")? == Some(generation as i64) && !tree_is_behind(&tx)?;
        if !shown {
            return Ok(None);
        }
        let ta = anchorage_ca_core::ca::TA_HANDLE;
        Ok(Some(Configured {
            roas: tx.roas_under(ta)?,
            aspas: tx.aspas_under(ta)?,
            router_keys: tx.router_keys_under(ta)?,
        }))
    }

    /// The last self-validation `serve` recorded, if any.
    pub fn self_validation(&mut self) -> Result<Option<SelfValidation>> {
        let tx = self.store.read_transaction()?;
        // A record this release cannot read (written by a later one) is
        // as good as none.
        Ok(tx
            .meta(SELF_VALIDATION)?
            .and_then(|s| serde_json::from_str(&s).ok()))
    }

    /// The data directory's health: what is published and when, what is
    /// overdue or expired, the remote repository's last push, and `serve`'s
    /// last self-validation; `problems` names what needs an operator.
    pub fn status(&mut self) -> Result<Status> {
        let now = self.ctx.clock.now();
        let secs = now.timestamp();
        let timing = &self.ctx.timing;
        let late = secs - Status::OVERDUE_AFTER_SECS;
        let tx = self.store.read_transaction()?;
        let (overdue_count, first) = tx.objects_due(
            late + timing.mft_crl_reissue_before.num_seconds(),
            late + timing.object_reissue_before.num_seconds(),
            LISTED as i64,
        )?;
        let base = &self.ctx.layout.rsync_base;
        let overdue: Vec<OverdueObject> = first
            .into_iter()
            .map(|(dir, name, not_after)| {
                let sep = if dir.is_empty() { "" } else { "/" };
                Ok(OverdueObject {
                    uri: format!("{base}{dir}{sep}{name}"),
                    not_after: rfc3339(anchorage_store::from_secs(not_after)?),
                })
            })
            .collect::<Result<_>>()?;
        let expired_count = tx.objects_expired(secs)?;
        // Stores written before the time was kept: the time of the tree
        // `current` names on this machine.
        let written = match meta_num(&tx, RSYNC_WRITTEN)? {
            Some(secs) => Some(anchorage_store::from_secs(secs)?),
            None => std::fs::symlink_metadata(self.ctx.dir.rsync().join("current"))
                .and_then(|m| m.modified())
                .ok()
                .map(|t| anchorage_ca_core::Time::new(chrono::DateTime::from(t))),
        };
        let last_publication = written.map(rfc3339);
        let schema_version = tx.meta("schema_version")?;
        let cas = tx.cas()?.len() as u64;
        let roa_payloads = tx.all_roas()?.len() as u64;
        drop(tx);
        let push_error = self.repository()?.and_then(|r| r.last_error);
        let trees = self.ctx.tree.holdings();
        let mut status = Status {
            data_dir: self.data_dir().root().display().to_string(),
            store: self
                .data_dir()
                .store_location()
                .map_or_else(|e| e.to_string(), |l| l.to_string()),
            schema_version,
            serve_running: self.data_dir().publisher_runs(),
            cas,
            roa_payloads,
            objects: self.object_counts()?.into_iter().collect(),
            last_publication,
            rrdp_serial: self.rrdp_serial()?,
            tree_behind: self.tree_behind()?,
            rsync_trees: trees.trees as u64,
            rsync_trash: trees.trash as u64,
            rsync_readers_seen: trees.readers_seen,
            next_due: self.next_due()?.map(rfc3339),
            overdue_count,
            overdue,
            expired_count,
            push_error,
            self_validation: self.self_validation()?,
            problems: Vec::new(),
        };
        status.problems = problems(&status);
        Ok(status)
    }
}

/// What in `status` needs an operator, one line each.
fn problems(status: &Status) -> Vec<String> {
    let mut out = Vec::new();
    if status.last_publication.is_none() {
        out.push("nothing has been published yet: run `anchorage publish` or `serve`".into());
    }
    if status.expired_count > 0 {
        out.push(format!(
            "{} published objects have expired: relying parties reject them",
            status.expired_count
        ));
    }
    if let Some(first) = status.overdue.first() {
        out.push(format!(
            "{} objects are past their planned reissue, the first {} (expires {}): is `serve` running?",
            status.overdue_count, first.uri, first.not_after
        ));
    }
    if let Some(err) = &status.push_error {
        out.push(format!(
            "the last push to the remote repository failed: {err}"
        ));
    }
    if let Some(v) = &status.self_validation {
        for (count, what, first) in [
            (v.missing_count, "VRPs", &v.missing),
            (v.aspas_missing_count, "ASPAs", &v.aspas_missing),
            (
                v.router_keys_missing_count,
                "router keys",
                &v.router_keys_missing,
            ),
        ] {
            if count > 0 {
                out.push(format!(
                    "{count} configured {what} did not validate in serve's self-validation of {}, the first {}",
                    v.compared.as_deref().unwrap_or("-"),
                    first.first().map_or("-", String::as_str)
                ));
            }
        }
        if let Some(first) = v.rejected.first() {
            out.push(format!(
                "serve's self-validation of {} rejected {} objects, the first {}: {}",
                v.finished, v.rejected_count, first.uri, first.reason
            ));
        }
    }
    out
}
