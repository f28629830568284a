//! Admin API tokens: created locally or by an administrator, stored only
//! as argon2id hashes, with a role and, for CA operators, a scope of CA
//! handles (each with its descendants).
//!
//! A token reads `anc_<id>_<secret>`: the id finds the stored hash, the
//! secret is checked against it. The full token is shown once, when it is
//! created.

use argon2::Argon2;
use argon2::password_hash::rand_core::{OsRng, RngCore};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use base64::Engine;
use serde::{Deserialize, Serialize};

use crate::audit::{Actor, Event, Journal};
use crate::error::AppError;
use crate::ops::Anchorage;
use anchorage_store::StoredToken;

/// What a token may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    /// Everything, on every CA, tokens included.
    Admin,
    /// Read and change its CAs and their descendants.
    CaOperator,
    /// Read everything it is scoped to (all CAs when unscoped).
    ReadOnly,
}

impl Role {
    /// The role's name as stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::CaOperator => "ca-operator",
            Role::ReadOnly => "read-only",
        }
    }

    /// The role named `s` (`admin`, `ca-operator`, `read-only`).
    pub fn parse(s: &str) -> Option<Role> {
        [Role::Admin, Role::CaOperator, Role::ReadOnly]
            .into_iter()
            .find(|r| r.as_str() == s)
    }
}

/// A token as listed: never its secret.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TokenInfo {
    /// The public id.
    pub id: String,
    /// Its role.
    pub role: Role,
    /// The CAs it is limited to, with their descendants (empty: all).
    pub cas: Vec<String>,
    /// What it is for.
    pub description: String,
    /// When it was created, RFC 3339.
    pub created: String,
    /// Who created it.
    pub created_by: String,
    /// When it was revoked, RFC 3339, if it was.
    pub revoked: Option<String>,
}

/// A token just created: its information and the token itself, which is
/// not stored and cannot be shown again.
#[derive(Clone, Debug, Serialize)]
pub struct NewToken {
    /// What was stored.
    #[serde(flatten)]
    pub info: TokenInfo,
    /// The bearer token.
    pub token: String,
    /// What the audit log recorded.
    #[serde(skip)]
    pub events: Vec<Event>,
}

fn rfc3339(secs: i64) -> String {
    chrono::DateTime::from_timestamp(secs, 0)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_default()
}

fn info(t: &StoredToken) -> TokenInfo {
    TokenInfo {
        id: t.id.clone(),
        role: Role::parse(&t.role).unwrap_or(Role::ReadOnly),
        cas: t.cas.clone(),
        description: t.description.clone(),
        created: rfc3339(t.created),
        created_by: t.created_by.clone(),
        revoked: t.revoked.map(rfc3339),
    }
}

/// Splits `anc_<id>_<secret>`.
pub fn split(token: &str) -> Option<(&str, &str)> {
    let rest = token.strip_prefix("anc_")?;
    let (id, secret) = rest.split_once('_')?;
    (id.len() == 16 && id.bytes().all(|b| b.is_ascii_hexdigit()) && !secret.is_empty())
        .then_some((id, secret))
}

impl Anchorage {
    /// Creates a token; `cas` limits it (required for ca-operator, not
    /// allowed for admin). Returns the token, to be shown once.
    pub fn create_token(
        &mut self,
        actor: &Actor,
        role: Role,
        cas: &[String],
        description: &str,
    ) -> Result<NewToken, AppError> {
        let bad = |value: String, rule| AppError::BadArgument {
            what: "token scope",
            value,
            rule,
        };
        match role {
            Role::CaOperator if cas.is_empty() => {
                return Err(bad(
                    String::new(),
                    "a ca-operator token needs at least one CA (--ca HANDLE)",
                ));
            }
            Role::Admin if !cas.is_empty() => {
                return Err(bad(cas.join(","), "an admin token is not limited to CAs"));
            }
            _ => {}
        }
        let mut id = [0u8; 8];
        OsRng.fill_bytes(&mut id);
        let id = hex::encode(id);
        let mut secret = [0u8; 32];
        OsRng.fill_bytes(&mut secret);
        let secret = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret);
        let hash = Argon2::default()
            .hash_password(secret.as_bytes(), &SaltString::generate(&mut OsRng))
            .map_err(|e| AppError::Io {
                what: "hashing the token".into(),
                source: std::io::Error::other(e.to_string()),
            })?
            .to_string();
        let now = self.ctx.clock.now();
        let tx = self.store.transaction()?;
        for ca in cas {
            if tx.ca(ca)?.is_none() {
                return Err(AppError::UnknownCa(ca.clone()));
            }
        }
        let stored = StoredToken {
            id: id.clone(),
            hash,
            role: role.as_str().into(),
            cas: cas.to_vec(),
            description: description.into(),
            created: now.timestamp(),
            created_by: actor.name().to_string(),
            revoked: None,
        };
        tx.insert_token(&stored)?;
        let mut journal = Journal::new(actor, now);
        journal.record(
            &tx,
            Event::TokenCreated {
                id: id.clone(),
                role,
                cas: cas.to_vec(),
            },
        )?;
        tx.commit()?;
        Ok(NewToken {
            info: info(&stored),
            token: format!("anc_{id}_{secret}"),
            events: journal.into_events(),
        })
    }

    /// Every token, revoked ones included.
    pub fn list_tokens(&mut self) -> Result<Vec<TokenInfo>, AppError> {
        let tx = self.store.read_transaction()?;
        Ok(tx.tokens()?.iter().map(info).collect())
    }

    /// Revokes a token: it stops working at once.
    pub fn revoke_token(&mut self, actor: &Actor, id: &str) -> Result<Vec<Event>, AppError> {
        let now = self.ctx.clock.now();
        let tx = self.store.transaction()?;
        if !tx.revoke_token(id, now)? {
            return Err(AppError::UnknownToken(id.into()));
        }
        let mut journal = Journal::new(actor, now);
        journal.record(
            &tx,
            Event::TokenRevoked {
                id: id.into(),
                ca: None,
            },
        )?;
        tx.commit()?;
        Ok(journal.into_events())
    }

    /// An unrevoked token's information and stored hash, by id.
    pub fn token_for_check(&mut self, id: &str) -> Result<Option<(TokenInfo, String)>, AppError> {
        let tx = self.store.read_transaction()?;
        Ok(tx
            .token(id)?
            .filter(|t| t.revoked.is_none())
            .map(|t| (info(&t), t.hash)))
    }

    /// The token's information if `token` is a valid, unrevoked token.
    pub fn verify_token(&mut self, token: &str) -> Result<Option<TokenInfo>, AppError> {
        let Some((id, secret)) = split(token) else {
            return Ok(None);
        };
        let stored = {
            let tx = self.store.read_transaction()?;
            tx.token(id)?
        };
        let Some(stored) = stored.filter(|t| t.revoked.is_none()) else {
            return Ok(None);
        };
        Ok(secret_matches(&stored.hash, secret).then(|| info(&stored)))
    }
}

/// An argon2 hash of a random secret, with the parameters tokens are
/// hashed with: what a check of an unknown token id is made against, so
/// it costs what a real one does.
pub fn decoy_hash() -> String {
    let mut secret = [0u8; 32];
    OsRng.fill_bytes(&mut secret);
    Argon2::default()
        .hash_password(&secret, &SaltString::generate(&mut OsRng))
        .map(|h| h.to_string())
        .unwrap_or_default()
}

/// Whether `secret` matches the argon2 PHC string `hash` (slow on purpose).
pub fn secret_matches(hash: &str, secret: &str) -> bool {
    PasswordHash::new(hash)
        .map(|h| {
            Argon2::default()
                .verify_password(secret.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_format() {
        assert_eq!(
            split("anc_0123456789abcdef_c2VjcmV0"),
            Some(("0123456789abcdef", "c2VjcmV0"))
        );
        for bad in [
            "",
            "anc_",
            "anc_0123_x",
            "xyz_0123456789abcdef_s",
            "anc_0123456789abcdeg_s",
        ] {
            assert_eq!(split(bad), None, "{bad}");
        }
    }
}
