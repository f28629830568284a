//! A ROA batch with its RFC 9319 analysis: the one call the admin API and
//! the CLI make, so both decide the same way.

use anchorage_ca_core::RoaPayload;

use super::{Anchorage, Result, RoaChanges};
use crate::audit::Actor;
use crate::rfc9319::bgp::{self, BgpTable, VrpIndex};
use crate::rfc9319::warnings::{self, Severity, Warning};

/// How a batch runs.
#[derive(Clone, Copy, Debug, Default)]
pub struct BatchOptions<'a> {
    /// Refused unless the CA's ROA list still has this ETag (`*`: any).
    pub if_match: Option<&'a str>,
    /// Check and analyse only; change nothing.
    pub dry: bool,
    /// Apply only if no warning is critical.
    pub strict: bool,
    /// Announcements seen in BGP, and every VRP of the repository before
    /// the change: for the checks against routes.
    pub routes: Option<(&'a BgpTable, &'a VrpIndex)>,
}

/// What a batch did (or, dry or blocked, would do), with its warnings.
#[derive(Clone, Debug)]
pub struct BatchOutcome {
    /// The changes, as applied or as they would be.
    pub changes: RoaChanges,
    /// RFC 9319 warnings.
    pub warnings: Vec<Warning>,
    /// With a BGP table: the announced routes whose validity the change
    /// moves.
    pub routes: Vec<bgp::RouteChange>,
    /// With a BGP table: the minimal ROAs for each non-minimal ROA added.
    pub minimal: Vec<bgp::MinimalRoas>,
    /// Whether the change was committed.
    pub applied: bool,
}

impl Anchorage {
    /// Applies (or, dry, checks) a ROA batch and analyses it under RFC
    /// 9319: maxLength and non-minimal ROAs from the CA's ROAs, and with
    /// `routes`, announcements left without a covering ROA or made
    /// invalid. A strict batch is analysed before it is applied and
    /// applied only if no warning is critical.
    pub fn roa_batch_analysed(
        &mut self,
        actor: &Actor,
        handle: &str,
        add: &[RoaPayload],
        remove: &[RoaPayload],
        opts: BatchOptions<'_>,
    ) -> Result<BatchOutcome> {
        let first = self.roa_batch(
            actor,
            handle,
            add,
            remove,
            opts.if_match,
            opts.dry || opts.strict,
        )?;
        let mut found = warnings::analyse(&first.after, &first.announced);
        let mut routes = bgp::Analysis::default();
        if let Some((table, index)) = opts.routes {
            // With announcements to compare, `non-minimal` says precisely
            // what the generic maxLength warning can only suspect.
            found.retain(|w| w.code != "max-length");
            routes = bgp::analyse_routes(table, index, &first.announced, &first.withdrawn);
            found.append(&mut routes.warnings);
        }
        let blocked = opts.strict && found.iter().any(|w| w.severity == Severity::Critical);
        if opts.dry || !opts.strict || blocked {
            return Ok(BatchOutcome {
                changes: first,
                warnings: found,
                routes: routes.routes,
                minimal: routes.minimal,
                applied: !opts.dry && !blocked,
            });
        }
        let done = self.roa_batch(actor, handle, add, remove, opts.if_match, false)?;
        Ok(BatchOutcome {
            changes: done,
            warnings: found,
            routes: routes.routes,
            minimal: routes.minimal,
            applied: true,
        })
    }

    /// Every VRP the repository's configuration makes, indexed for the
    /// route checks, and the audit generation it was read at (a cache
    /// keyed by it stays right).
    pub fn vrp_index(&mut self) -> Result<(i64, VrpIndex)> {
        let (generation, all) = self.all_roas()?;
        Ok((generation, VrpIndex::new(&all)))
    }
}
