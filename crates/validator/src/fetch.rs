//! Fetching over rsync into a local cache.

use std::collections::HashSet;
use std::path::{Component, Path, PathBuf};
use std::process::{Command, Stdio};

use rpki::uri;

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
}

/// Copies rsync URIs into `cache/rsync/HOST/MODULE/PATH`, each directory once per run.
#[derive(Debug)]
pub struct RsyncFetcher {
    cache: PathBuf,
    program: PathBuf,
    fetched: HashSet<String>,
}

impl RsyncFetcher {
    /// A fetcher into `cache` running `program` (normally `rsync`).
    pub fn new(cache: impl Into<PathBuf>, program: impl Into<PathBuf>) -> Self {
        RsyncFetcher {
            cache: cache.into(),
            program: program.into(),
            fetched: HashSet::new(),
        }
    }

    /// Where `uri` lives in the cache; refuses anything but plain components.
    pub fn local_path(&self, uri: &uri::Rsync) -> Result<PathBuf, FetchError> {
        let rel = format!("{}/{}/{}", uri.authority(), uri.module_name(), uri.path());
        let rel = rel.trim_end_matches('/');
        let p = Path::new(rel);
        if !p.components().all(|c| matches!(c, Component::Normal(_)))
            || rel.bytes().any(|b| b == 0 || b == b'\\')
        {
            return Err(FetchError::UnsafeUri(uri.to_string()));
        }
        Ok(self.cache.join("rsync").join(p))
    }

    fn run(&self, src: &str, dest: &Path, dir: bool) -> Result<(), FetchError> {
        let err = |reason: String| FetchError::Rsync {
            uri: src.to_string(),
            reason,
        };
        if let Some(parent) = dest.parent() {
            std::fs::create_dir_all(parent).map_err(|e| err(e.to_string()))?;
        }
        let mut cmd = Command::new(&self.program);
        cmd.args(["-rt", "--timeout=60", "--max-size=16M"]);
        if dir {
            cmd.arg("--delete");
            std::fs::create_dir_all(dest).map_err(|e| err(e.to_string()))?;
        }
        let out = cmd
            .arg(src)
            .arg(dest)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| err(e.to_string()))?;
        if !out.status.success() {
            return Err(err(String::from_utf8_lossy(&out.stderr).trim().to_string()));
        }
        Ok(())
    }

    /// Fetches a single file (a TA certificate); returns its local path.
    pub fn fetch_file(&mut self, uri: &uri::Rsync) -> Result<PathBuf, FetchError> {
        let dest = self.local_path(uri)?;
        self.run(uri.as_str(), &dest, false)?;
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
        let module = format!("rsync://{}/{}/", uri.authority(), uri.module_name());
        if !self.fetched.contains(&module) {
            let module_uri = uri::Rsync::from_string(module.clone())
                .map_err(|_| FetchError::UnsafeUri(module.clone()))?;
            let module_dest = self.local_path(&module_uri)?;
            self.run(&module, &module_dest, true)?;
            self.fetched.insert(module);
        }
        Ok(dest)
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
