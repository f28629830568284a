//! The audit log: the `audit` table.

use crate::sql::{Value, args};
use rpki::repository::x509::Time;

use crate::{Result, Tx, to_secs};

/// One line of the audit log.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct AuditEntry {
    /// Its position in the log.
    pub id: i64,
    /// Seconds since the epoch.
    pub time: i64,
    /// Who did it.
    pub actor: String,
    /// The API request that did it, if any.
    pub request_id: Option<String>,
    /// What was done.
    pub action: String,
    /// The CA concerned, if any.
    pub ca: Option<String>,
    /// Details.
    pub detail: String,
    /// The state before, if it existed.
    pub before: Option<String>,
    /// The state after, if it exists.
    pub after: Option<String>,
}

/// Who is changing something: recorded with every audit entry.
#[derive(Clone, Copy, Debug)]
pub struct Who<'a> {
    /// The operator or token.
    pub actor: &'a str,
    /// The API request, if any.
    pub request_id: Option<&'a str>,
}

/// Which audit entries to read.
#[derive(Clone, Debug, Default)]
pub struct AuditFilter {
    /// Only those of these CAs (none: all).
    pub cas: Option<Vec<String>>,
    /// Only those of this actor.
    pub actor: Option<String>,
    /// Only those at or after this time (seconds since the epoch).
    pub since: Option<i64>,
    /// Only those at or before this time.
    pub until: Option<i64>,
    /// At most this many, the newest (0: no limit).
    pub limit: usize,
}

impl Tx<'_> {
    /// The newest audit entry's id: it changes whenever anything does.
    pub fn audit_generation(&self) -> Result<i64> {
        self.row("SELECT COALESCE(MAX(id), 0) FROM audit", args![], |r| {
            r.get(0)
        })
    }

    /// Appends to the audit log.
    pub fn audit(
        &self,
        now: Time,
        who: Who<'_>,
        action: &str,
        ca: Option<&str>,
        detail: &str,
    ) -> Result<()> {
        self.audit_change(now, who, action, ca, detail, None, None)
    }

    /// Appends to the audit log, with the state before and after.
    #[allow(clippy::too_many_arguments)]
    pub fn audit_change(
        &self,
        now: Time,
        who: Who<'_>,
        action: &str,
        ca: Option<&str>,
        detail: &str,
        before: Option<&str>,
        after: Option<&str>,
    ) -> Result<()> {
        self.exec(
            "INSERT INTO audit (time, actor, request_id, action, ca, detail, before, after) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            args![
                to_secs(now),
                who.actor,
                who.request_id,
                action,
                ca,
                detail,
                before,
                after
            ],
        )?;
        Ok(())
    }

    /// Reads the audit log, oldest first, as `filter` says.
    pub fn audit_log(&self, filter: &AuditFilter) -> Result<Vec<AuditEntry>> {
        let mut sql = String::from(
            "SELECT id, time, actor, request_id, action, ca, detail, before, after FROM audit WHERE 1=1",
        );
        let mut args: Vec<Value> = Vec::new();
        let mut arg = |v: Value| {
            args.push(v);
            format!("?{}", args.len())
        };
        if let Some(cas) = &filter.cas {
            if cas.is_empty() {
                return Ok(Vec::new());
            }
            let list: Vec<String> = cas.iter().map(|c| arg(Value::Text(c.clone()))).collect();
            sql.push_str(&format!(" AND ca IN ({})", list.join(", ")));
        }
        if let Some(actor) = &filter.actor {
            let p = arg(Value::Text(actor.clone()));
            sql.push_str(&format!(" AND actor = {p}"));
        }
        if let Some(since) = filter.since {
            let p = arg(Value::Int(since));
            sql.push_str(&format!(" AND time >= {p}"));
        }
        if let Some(until) = filter.until {
            let p = arg(Value::Int(until));
            sql.push_str(&format!(" AND time <= {p}"));
        }
        sql.push_str(" ORDER BY id DESC");
        if filter.limit > 0 {
            sql.push_str(&format!(" LIMIT {}", filter.limit));
        }
        let mut out = self.rows(&sql, &args, |r| {
            Ok(AuditEntry {
                id: r.get(0)?,
                time: r.get(1)?,
                actor: r.get(2)?,
                request_id: r.get(3)?,
                action: r.get(4)?,
                ca: r.get(5)?,
                detail: r.get(6)?,
                before: r.get(7)?,
                after: r.get(8)?,
            })
        })?;
        out.reverse();
        Ok(out)
    }
}
