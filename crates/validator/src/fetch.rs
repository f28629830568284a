//! Fetching publication points into a local cache: RRDP first, rsync as
//! the fallback (or only, with `--rsync-only`).

use std::collections::{BTreeSet, HashSet};
use std::path::{Component, Path, PathBuf};
use std::process::{Command, Stdio};

use bytes::Bytes;
use rpki::repository::tal::TalUri;
use rpki::uri;

use crate::rrdp::{RrdpFetcher, RrdpStats};

/// Why a fetch failed.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// A URI that would leave the cache directory.
    #[error("refusing {0}: path components like '..' are not allowed")]
    UnsafeUri(String),
    /// rsync failed.
    #[error("rsync {uri} failed: {reason}")]
    Rsync {
        /// The URI.
        uri: String,
        /// What rsync said.
        reason: String,
    },
    /// An HTTPS request failed.
    #[error("GET {uri} failed: {reason}")]
    Http {
        /// The URI.
        uri: String,
        /// Why.
        reason: String,
    },
    /// An RRDP repository could not be brought up to date.
    #[error("RRDP {uri}: {reason}")]
    Rrdp {
        /// The notification URI.
        uri: String,
        /// Why, naming the rule.
        reason: String,
    },
    /// The HTTPS client could not be set up.
    #[error("TLS setup: {0}")]
    Tls(String),
}

/// Where `uri` lives below `base` (`base/HOST/MODULE/PATH`); refuses
/// anything but plain path components, so no URI can leave `base`.
pub fn cache_path(base: &Path, uri: &uri::Rsync) -> Result<PathBuf, FetchError> {
    let rel = format!("{}/{}/{}", uri.authority(), uri.module_name(), uri.path());
    let rel = rel.trim_end_matches('/');
    let p = Path::new(rel);
    if !p.components().all(|c| matches!(c, Component::Normal(_)))
        || rel.bytes().any(|b| b == 0 || b == b'\\')
    {
        return Err(FetchError::UnsafeUri(uri.to_string()));
    }
    Ok(base.join(p))
}

/// Copies rsync URIs into `cache/rsync/HOST/MODULE/PATH`, each directory once per run.
#[derive(Clone, Debug)]
pub struct RsyncFetcher {
    cache: PathBuf,
    program: PathBuf,
    fetched: HashSet<String>,
    offline: bool,
}

impl RsyncFetcher {
    /// A fetcher into `cache` running `program` (normally `rsync`).
    pub fn new(cache: impl Into<PathBuf>, program: impl Into<PathBuf>) -> Self {
        RsyncFetcher {
            cache: cache.into(),
            program: program.into(),
            fetched: HashSet::new(),
            offline: false,
        }
    }

    /// A fetcher that only reads what an earlier run left in `cache`
    /// (like `rpki-client -n`).
    pub fn offline(cache: impl Into<PathBuf>) -> Self {
        RsyncFetcher {
            offline: true,
            ..Self::new(cache, "rsync")
        }
    }

    /// Where `uri` lives in the cache; refuses anything but plain components.
    pub fn local_path(&self, uri: &uri::Rsync) -> Result<PathBuf, FetchError> {
        cache_path(&self.cache.join("rsync"), uri)
    }

    fn run(&self, src: &str, dest: &Path, how: Transfer<'_>) -> Result<(), FetchError> {
        let err = |reason: String| FetchError::Rsync {
            uri: src.to_string(),
            reason,
        };
        if self.offline {
            return match dest.exists() {
                true => Ok(()),
                false => Err(err("not in the cache (no fetching)".into())),
            };
        }
        if let Some(parent) = dest.parent() {
            std::fs::create_dir_all(parent).map_err(|e| err(e.to_string()))?;
        }
        let mut cmd = Command::new(&self.program);
        cmd.args(["-t", "--timeout=60", "--max-size=16M"]);
        match how {
            Transfer::File => {
                cmd.arg("-r");
            }
            Transfer::Dir => {
                cmd.args(["-r", "--delete"]);
                std::fs::create_dir_all(dest).map_err(|e| err(e.to_string()))?;
            }
            Transfer::Listed(list) => {
                // Each listed path and its directories, not recursing
                // (`-d`); a listed path the server does not have is
                // removed from the copy, a directory with what is in it.
                cmd.args(["-d", "--force", "--delete-missing-args", "--files-from"])
                    .arg(list);
                std::fs::create_dir_all(dest).map_err(|e| err(e.to_string()))?;
            }
        }
        let out = cmd
            .arg(src)
            .arg(dest)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| err(e.to_string()))?;
        // Exit 24 ("some files vanished"): for a listed transfer, the
        // directories of paths the served tree no longer has, which rsync
        // adds to the list itself; the tree a transfer reads never
        // changes under it, so nothing else can vanish.
        let vanished = matches!(how, Transfer::Listed(_)) && out.status.code() == Some(24);
        if !out.status.success() && !vanished {
            return Err(err(String::from_utf8_lossy(&out.stderr).trim().to_string()));
        }
        Ok(())
    }

    /// Fetches a single file (a TA certificate), unless its module was
    /// fetched already in this run; returns its local path.
    pub fn fetch_file(&mut self, uri: &uri::Rsync) -> Result<PathBuf, FetchError> {
        let dest = self.local_path(uri)?;
        if !self.fetched.contains(&module_of(uri)) {
            self.run(uri.as_str(), &dest, Transfer::File)?;
        }
        Ok(dest)
    }

    /// Fetches the publication point `uri`; returns its local path.
    ///
    /// Like rpki-client, one rsync run fetches the whole module the point
    /// is in (`rsync://HOST/MODULE/`), once per validation run: a
    /// repository with thousands of points is one transfer, not
    /// thousands of rsync processes.
    pub fn fetch_dir(&mut self, uri: &uri::Rsync) -> Result<PathBuf, FetchError> {
        let dest = self.local_path(uri)?;
        let module = module_of(uri);
        if !self.fetched.contains(&module) {
            let module_uri = uri::Rsync::from_string(module.clone())
                .map_err(|_| FetchError::UnsafeUri(module.clone()))?;
            let module_dest = self.local_path(&module_uri)?;
            self.run(&module, &module_dest, Transfer::Dir)?;
            self.fetched.insert(module);
        }
        Ok(dest)
    }

    /// The directories of the copy of `module` holding `paths` (relative
    /// to it): the publication points whose files they are.
    pub fn local_dirs(
        &self,
        module: &uri::Rsync,
        paths: &BTreeSet<String>,
    ) -> Result<HashSet<PathBuf>, FetchError> {
        let root = self.local_path(module)?;
        Ok(paths
            .iter()
            .map(|p| match p.rsplit_once('/') {
                Some((dir, _)) => root.join(dir),
                None => root.clone(),
            })
            .collect())
    }

    /// Brings the copy of the module `module` (`rsync://HOST/MODULE/`) up
    /// to date for `paths` (relative to it) only: each is fetched, or
    /// removed from the copy where the server no longer has it. The
    /// module then counts as fetched for this run. For a caller that
    /// knows every path that changed since its copy was fetched: the
    /// transfer costs in proportion to them, not to the module.
    pub fn fetch_listed(
        &mut self,
        module: &uri::Rsync,
        paths: &BTreeSet<String>,
    ) -> Result<(), FetchError> {
        let module_dest = self.local_path(module)?;
        let mut listed = BTreeSet::new();
        for path in paths {
            let rel = Path::new(path);
            if path.is_empty()
                || !rel.components().all(|c| matches!(c, Component::Normal(_)))
                || path.bytes().any(|b| b == 0 || b == b'\\' || b == b'\n')
            {
                return Err(FetchError::UnsafeUri(format!("{module}{path}")));
            }
            listed.extend(rel.ancestors().filter(|a| !a.as_os_str().is_empty()));
        }
        if !listed.is_empty() {
            let mut text = String::new();
            for p in &listed {
                text.push_str(&p.to_string_lossy());
                text.push('\n');
            }
            let list = self.cache.join(".files-from");
            std::fs::create_dir_all(&self.cache)
                .and_then(|()| std::fs::write(&list, text))
                .map_err(|e| FetchError::Rsync {
                    uri: module.to_string(),
                    reason: format!("writing {}: {e}", list.display()),
                })?;
            self.run(module.as_str(), &module_dest, Transfer::Listed(&list))?;
        }
        self.fetched.insert(module_of(module));
        Ok(())
    }
}

/// The module of `uri`: `rsync://HOST/MODULE/`.
fn module_of(uri: &uri::Rsync) -> String {
    format!("rsync://{}/{}/", uri.authority(), uri.module_name())
}

/// What one rsync run transfers.
#[derive(Clone, Copy)]
enum Transfer<'a> {
    /// A single file.
    File,
    /// A directory, made equal to the server's.
    Dir,
    /// The paths listed in this file, relative to the source.
    Listed(&'a Path),
}

/// What a [`Fetcher`] did in one run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct FetchStats {
    /// RRDP downloads.
    pub rrdp: RrdpStats,
    /// rsync module transfers.
    pub rsync_modules: usize,
    /// Points fetched over rsync because their RRDP repository failed.
    pub rsync_fallbacks: usize,
}

/// Fetches trust anchors and publication points the way a relying party
/// does: RRDP when the CA names a notification URI, rsync otherwise or
/// when RRDP fails.
#[derive(Debug)]
pub struct Fetcher {
    rsync: RsyncFetcher,
    rrdp: Option<RrdpFetcher>,
    fallbacks: usize,
}

impl Fetcher {
    /// Fetches over rsync only.
    pub fn rsync_only(rsync: RsyncFetcher) -> Self {
        Fetcher {
            rsync,
            rrdp: None,
            fallbacks: 0,
        }
    }

    /// Fetches over RRDP first, `rsync` as the fallback.
    pub fn with_rrdp(rsync: RsyncFetcher, rrdp: RrdpFetcher) -> Self {
        Fetcher {
            rsync,
            rrdp: Some(rrdp),
            fallbacks: 0,
        }
    }

    /// What was fetched so far.
    pub fn stats(&self) -> FetchStats {
        FetchStats {
            rrdp: self
                .rrdp
                .as_ref()
                .map(RrdpFetcher::stats)
                .unwrap_or_default(),
            rsync_modules: self.rsync.fetched.len(),
            rsync_fallbacks: self.fallbacks,
        }
    }

    /// Whether `uri` is one this fetcher uses (HTTPS needs RRDP enabled).
    pub fn can_fetch(&self, uri: &TalUri) -> bool {
        uri.is_rsync() || self.rrdp.is_some()
    }

    /// Fetches a trust anchor certificate named in a TAL (RFC 8630 §2.2).
    pub fn trust_anchor(&mut self, uri: &TalUri) -> Result<Bytes, FetchError> {
        match (uri, &self.rrdp) {
            (TalUri::Rsync(uri), _) => {
                let path = self.rsync.fetch_file(uri)?;
                std::fs::read(&path)
                    .map(Bytes::from)
                    .map_err(|e| FetchError::Rsync {
                        uri: uri.to_string(),
                        reason: e.to_string(),
                    })
            }
            (TalUri::Https(uri), Some(rrdp)) => rrdp
                .get(uri.as_str(), crate::rrdp::MAX_OBJECT)
                .map(Bytes::from),
            (TalUri::Https(uri), None) => Err(FetchError::Http {
                uri: uri.to_string(),
                reason: "HTTPS is off (rsync only)".into(),
            }),
        }
    }

    /// Whether points are fetched by RRDP where their CA names a
    /// notification URI (otherwise [`Self::point`] does not look at it).
    pub fn follows_rrdp(&self) -> bool {
        self.rrdp.is_some()
    }

    /// Fetches the publication point `repo` of a CA whose certificate names
    /// `notify` (RFC 8182 §3.2) and returns the local directory holding it.
    pub fn point(
        &mut self,
        notify: Option<&uri::Https>,
        repo: &uri::Rsync,
    ) -> Result<PathBuf, FetchError> {
        if let (Some(notify), Some(rrdp)) = (notify, self.rrdp.as_mut()) {
            match rrdp.update(notify) {
                Ok(objects) => return cache_path(&objects, repo),
                Err(e) => {
                    tracing::warn!(error = %e, %repo, "RRDP failed; falling back to rsync");
                    self.fallbacks += 1;
                }
            }
        }
        self.rsync.fetch_dir(repo)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_paths_stay_in_the_cache() {
        let f = RsyncFetcher::new("/cache", "rsync");
        let ok = uri::Rsync::from_string("rsync://h/repo/ca/x.roa".into()).unwrap();
        assert_eq!(
            f.local_path(&ok).unwrap(),
            PathBuf::from("/cache/rsync/h/repo/ca/x.roa")
        );
        for bad in ["rsync://h/repo/../etc/passwd", "rsync://h/repo/a/../../x"] {
            if let Ok(u) = uri::Rsync::from_string(bad.into()) {
                assert!(f.local_path(&u).is_err(), "{bad}");
            }
        }
    }
}
