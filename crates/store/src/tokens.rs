//! Admin API tokens: the `tokens` table.

use crate::sql::{Row, args};
use rpki::repository::x509::Time;

use crate::{Result, Tx, to_secs};

/// An admin API token as stored (its secret only as an argon2 hash).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredToken {
    /// The public id (part of the token).
    pub id: String,
    /// The argon2 PHC string of the secret.
    pub hash: String,
    /// `admin`, `ca-operator` or `read-only`.
    pub role: String,
    /// The CA handles it is limited to (with their descendants).
    pub cas: Vec<String>,
    /// What it is for.
    pub description: String,
    /// When it was created (seconds since the epoch).
    pub created: i64,
    /// Who created it.
    pub created_by: String,
    /// When it was revoked, if it was.
    pub revoked: Option<i64>,
}

impl Tx<'_> {
    /// Stores a new token.
    pub fn insert_token(&self, t: &StoredToken) -> Result<()> {
        self.exec(
            "INSERT INTO tokens (id, hash, role, cas, description, created, created_by, revoked) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            args![
                t.id,
                t.hash,
                t.role,
                t.cas.join(","),
                t.description,
                t.created,
                t.created_by,
                t.revoked
            ],
        )?;
        Ok(())
    }

    /// Every token, revoked ones included, oldest first.
    pub fn tokens(&self) -> Result<Vec<StoredToken>> {
        self.tokens_where("1=1", None)
    }

    /// The token with this id.
    pub fn token(&self, id: &str) -> Result<Option<StoredToken>> {
        Ok(self.tokens_where("id = ?1", Some(id))?.pop())
    }

    fn tokens_where(&self, cond: &str, arg: Option<&str>) -> Result<Vec<StoredToken>> {
        let sql = format!(
            "SELECT id, hash, role, cas, description, created, created_by, revoked \
             FROM tokens WHERE {cond} ORDER BY created, id"
        );
        let map = |r: &mut Row| {
            let cas: String = r.get(3)?;
            Ok(StoredToken {
                id: r.get(0)?,
                hash: r.get(1)?,
                role: r.get(2)?,
                cas: cas
                    .split(',')
                    .filter(|c| !c.is_empty())
                    .map(str::to_string)
                    .collect(),
                description: r.get(4)?,
                created: r.get(5)?,
                created_by: r.get(6)?,
                revoked: r.get(7)?,
            })
        };
        match arg {
            Some(a) => self.rows(&sql, args![a], map),
            None => self.rows(&sql, args![], map),
        }
    }

    /// Marks a token revoked; false if there is no such unrevoked token.
    pub fn revoke_token(&self, id: &str, now: Time) -> Result<bool> {
        Ok(self.exec(
            "UPDATE tokens SET revoked = ?2 WHERE id = ?1 AND revoked IS NULL",
            args![id, to_secs(now)],
        )? == 1)
    }
}
