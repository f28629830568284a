//! The configuration file of `serve` (TOML); command-line options override it.
//!
//! ```toml
//! http_listen = "127.0.0.1:8080"
//! rsync_listen = "0.0.0.0:873"
//! tls_cert = "/etc/anchorage/tls/fullchain.pem"
//! tls_key = "/etc/anchorage/tls/key.pem"
//! rsync_program = "/usr/bin/rsync"
//! max_sleep_seconds = 60
//! ee_key_pool = 64
//! rtr_listen = "127.0.0.1:8323"
//! rtr_max_version = 1
//! api_listen = "127.0.0.1:8443"
//! api_tls_cert = "/etc/anchorage/tls/api.pem"
//! api_tls_key = "/etc/anchorage/tls/api.key"
//! api_rate_burst = 50
//! api_rate_per_second = 20.0
//! bgp_file = "/var/lib/anchorage/bgp.csv"
//! metrics_public = false
//! ca_max_roa_payloads = 100000
//! ca_max_origin_asns = 5000
//! peer_timeout_seconds = 30
//! parent_sync_seconds = 600
//! http_max_connections = 1024
//! api_max_connections = 256
//! rtr_max_connections = 1024
//! rsync_max_connections = 512
//! rsync_timeout_seconds = 300
//! rsyncd_user = "nobody"
//! instance_name = "ca1"
//! max_connections_per_address = 64
//! connection_cap_exempt = ["127.0.0.1", "::1"]
//! fd_reserve = 256
//! header_timeout_seconds = 10
//! body_timeout_seconds = 30
//! keyroll_staging_hours = 24
//! keyroll_every_days = 365
//! keyroll_max_in_progress = 10
//! ui_session_idle_seconds = 1800
//! ui_session_max_seconds = 43200
//! ```

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use serde::Deserialize;

use crate::serve::ServeOptions;

/// Default HTTP listen address: loopback, for a reverse proxy in front.
pub const DEFAULT_HTTP_LISTEN: &str = "127.0.0.1:8080";
/// Default rsync listen address: the standard port on all interfaces.
pub const DEFAULT_RSYNC_LISTEN: &str = "0.0.0.0:873";

/// Default size of the pre-generated EE key pool of `serve`.
pub const DEFAULT_EE_KEY_POOL: usize = 64;

/// Every option of the configuration file; all optional.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The store: a PostgreSQL connection string, as `--database`, which
    /// overrides it (default: DIR/database.url, else the SQLite file).
    pub database: Option<String>,
    /// Address and port of the HTTP(S) server.
    pub http_listen: Option<SocketAddr>,
    /// Address and port of rsyncd.
    pub rsync_listen: Option<SocketAddr>,
    /// TLS certificate chain (PEM).
    pub tls_cert: Option<PathBuf>,
    /// TLS private key (PEM).
    pub tls_key: Option<PathBuf>,
    /// The rsync program.
    pub rsync_program: Option<PathBuf>,
    /// The longest the scheduler sleeps between checks, in seconds.
    pub max_sleep_seconds: Option<u64>,
    /// One-time EE keys kept pre-generated (0 disables the pool).
    pub ee_key_pool: Option<usize>,
    /// Address and port of the RTR cache; none: no RTR.
    pub rtr_listen: Option<SocketAddr>,
    /// The highest RTR version offered: 1 (RFC 8210, default) or 0 (RFC 6810).
    pub rtr_max_version: Option<u8>,
    /// Address and port of the admin API (TLS); none: no API.
    pub api_listen: Option<SocketAddr>,
    /// The API's TLS certificate chain (default: the data directory's self-signed one).
    pub api_tls_cert: Option<PathBuf>,
    /// The API's TLS key.
    pub api_tls_key: Option<PathBuf>,
    /// Requests a token may make at once (default 50).
    pub api_rate_burst: Option<u32>,
    /// Requests per second a token may make after that (default 20).
    pub api_rate_per_second: Option<f64>,
    /// A `prefix,origin-asn` CSV of BGP announcements for the API's
    /// RFC 9319 checks, reloaded when it changes (default: the table
    /// `anchorage bgp load` keeps in the data directory).
    pub bgp_file: Option<PathBuf>,
    /// Serve `/metrics` and `/json` without a token (default: a token of
    /// any role is required).
    pub metrics_public: Option<bool>,
    /// ROA payloads one CA may have (default 100,000).
    pub ca_max_roa_payloads: Option<usize>,
    /// Distinct origin ASNs among one CA's ROA payloads (default 5,000).
    pub ca_max_origin_asns: Option<usize>,
    /// How long one exchange with a remote parent or repository may
    /// take, in seconds (default 30).
    pub peer_timeout_seconds: Option<u64>,
    /// How often remote parents are synced, in seconds (default 600; a
    /// failed sync is retried after at most 60).
    pub parent_sync_seconds: Option<u64>,
    /// Open connections on the public HTTP port (default 1024).
    pub http_max_connections: Option<usize>,
    /// Open connections on the admin API (default 256).
    pub api_max_connections: Option<usize>,
    /// Open connections on the RTR port (default 1024).
    pub rtr_max_connections: Option<usize>,
    /// Clients rsyncd serves at once (default 512).
    pub rsync_max_connections: Option<u32>,
    /// Seconds an rsync client may stay silent (default 300).
    pub rsync_timeout_seconds: Option<u64>,
    /// The unprivileged user rsyncd serves as when `serve` runs as root,
    /// chrooted into the tree (default `nobody`).
    pub rsyncd_user: Option<String>,
    /// This instance's name among several `serve` instances on one
    /// PostgreSQL database (default: the host name).
    pub instance_name: Option<String>,
    /// Open connections from one address on each listener (default 64).
    pub max_connections_per_address: Option<usize>,
    /// Addresses with no per-address cap, e.g. a reverse proxy in front
    /// (default: the loopback addresses).
    pub connection_cap_exempt: Option<Vec<std::net::IpAddr>>,
    /// File descriptors kept for publication and the store (default 256).
    pub fd_reserve: Option<u64>,
    /// Seconds a client may take to send a request's headers, or sit idle
    /// between requests (default 10).
    pub header_timeout_seconds: Option<u64>,
    /// Seconds a client may take to send a request body (default 30).
    pub body_timeout_seconds: Option<u64>,
    /// The staging period of a key rollover started without one, in
    /// hours (default 24, RFC 6489 §2): `serve` activates the new key
    /// once it has passed.
    pub keyroll_staging_hours: Option<u32>,
    /// Roll every CA key older than this many days, by itself (default:
    /// only rollovers started by hand).
    pub keyroll_every_days: Option<u32>,
    /// Rollovers in progress at once under `keyroll_every_days`, at most
    /// (default 10).
    pub keyroll_max_in_progress: Option<usize>,
    /// Seconds without a request after which a web interface session
    /// ends (default 1800).
    pub ui_session_idle_seconds: Option<u64>,
    /// Seconds after sign-in after which a web interface session ends in
    /// any case (default 43200, 12 hours).
    pub ui_session_max_seconds: Option<u64>,
}

/// What `serve`'s command-line options set; each overrides the file.
#[derive(Clone, Debug, Default)]
pub struct Overrides {
    /// `--http-listen`.
    pub http_listen: Option<SocketAddr>,
    /// `--rsync-listen`.
    pub rsync_listen: Option<SocketAddr>,
    /// `--tls-cert` and `--tls-key`.
    pub tls: Option<(PathBuf, PathBuf)>,
    /// `--rsync-program`.
    pub rsync_program: Option<PathBuf>,
    /// `--rtr-listen`.
    pub rtr_listen: Option<SocketAddr>,
    /// `--rtr-max-version`.
    pub rtr_max_version: Option<u8>,
    /// `--api-listen`.
    pub api_listen: Option<SocketAddr>,
}

/// Default burst of API requests per token.
pub const DEFAULT_API_BURST: u32 = 50;
/// Default sustained API requests per second per token.
pub const DEFAULT_API_RATE: f64 = 20.0;

impl Config {
    /// Reads and parses a configuration file; unknown keys are errors.
    pub fn load(path: &Path) -> anyhow::Result<Config> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading configuration {}", path.display()))?;
        toml::from_str(&text).with_context(|| format!("in configuration {}", path.display()))
    }

    /// Combines the file with command-line overrides.
    pub fn serve_options(&self, flags: Overrides) -> anyhow::Result<ServeOptions> {
        let Overrides {
            http_listen,
            rsync_listen,
            tls,
            rsync_program,
            rtr_listen,
            rtr_max_version,
            api_listen,
        } = flags;
        let api_tls = match (&self.api_tls_cert, &self.api_tls_key) {
            (Some(c), Some(k)) => Some((c.clone(), k.clone())),
            (None, None) => None,
            _ => bail!("api_tls_cert and api_tls_key must be given together"),
        };
        let max_version = rtr_max_version
            .or(self.rtr_max_version)
            .unwrap_or(anchorage_rtr::DEFAULT_VERSION);
        if max_version > anchorage_rtr::pdu::MAX_VERSION {
            bail!(
                "rtr_max_version {max_version}: versions 0 (RFC 6810), 1 (RFC 8210) and 2 (draft-ietf-sidrops-8210bis, with ASPA) are supported"
            );
        }
        let tls = match tls {
            Some(t) => Some(t),
            None => match (&self.tls_cert, &self.tls_key) {
                (Some(c), Some(k)) => Some((c.clone(), k.clone())),
                (None, None) => None,
                _ => bail!("tls_cert and tls_key must be given together"),
            },
        };
        Ok(ServeOptions {
            http_listen: http_listen
                .or(self.http_listen)
                .unwrap_or_else(|| DEFAULT_HTTP_LISTEN.parse().expect("valid default")),
            rsync_listen: rsync_listen
                .or(self.rsync_listen)
                .unwrap_or_else(|| DEFAULT_RSYNC_LISTEN.parse().expect("valid default")),
            tls,
            rsync_program: rsync_program
                .or_else(|| self.rsync_program.clone())
                .unwrap_or_else(|| PathBuf::from("rsync")),
            max_sleep: Duration::from_secs(self.max_sleep_seconds.unwrap_or(60).max(1)),
            ee_key_pool: self.ee_key_pool.unwrap_or(DEFAULT_EE_KEY_POOL),
            rtr_listen: rtr_listen.or(self.rtr_listen),
            rtr: anchorage_rtr::RtrConfig {
                max_version,
                ..anchorage_rtr::RtrConfig::default()
            },
            api_listen: api_listen.or(self.api_listen),
            api_tls,
            api_rate: (
                self.api_rate_burst.unwrap_or(DEFAULT_API_BURST),
                self.api_rate_per_second.unwrap_or(DEFAULT_API_RATE),
            ),
            bgp_file: self.bgp_file.clone(),
            metrics_public: self.metrics_public.unwrap_or(false),
            roa_limits: {
                let d = crate::ops::RoaLimits::default();
                crate::ops::RoaLimits {
                    payloads: self.ca_max_roa_payloads.unwrap_or(d.payloads),
                    origin_asns: self.ca_max_origin_asns.unwrap_or(d.origin_asns),
                }
            },
            peer_timeout: self
                .peer_timeout_seconds
                .map(|s| Duration::from_secs(s.max(1)))
                .unwrap_or(crate::protocols::PEER_TIMEOUT),
            parent_sync: self
                .parent_sync_seconds
                .map(|s| Duration::from_secs(s.max(1)))
                .unwrap_or(crate::serve::PARENT_SYNC_EVERY),
            listen: self.listen_limits(),
            rsyncd_user: self.rsyncd_user.clone().unwrap_or_else(|| "nobody".into()),
            ui_sessions: {
                let d = crate::api::SessionPolicy::default();
                let secs = |v: Option<u64>, d: Duration| {
                    v.map(|s| Duration::from_secs(s.max(1))).unwrap_or(d)
                };
                crate::api::SessionPolicy {
                    idle: secs(self.ui_session_idle_seconds, d.idle),
                    max: secs(self.ui_session_max_seconds, d.max),
                }
            },
            instance_name: match &self.instance_name {
                Some(name) => name.clone(),
                None => host_name(),
            },
            keyroll_staging: self.keyroll_staging()?,
            keyroll_policy: self.keyroll_policy()?,
        })
    }

    /// `keyroll_staging_hours`, checked: at most a year.
    fn keyroll_staging(&self) -> anyhow::Result<chrono::TimeDelta> {
        let Some(hours) = self.keyroll_staging_hours else {
            return Ok(crate::ops::DEFAULT_STAGING);
        };
        let staging = chrono::TimeDelta::hours(hours.into());
        if staging > crate::ops::MAX_STAGING {
            bail!("keyroll_staging_hours = {hours}: at most 8760 (a year)");
        }
        Ok(staging)
    }

    /// `keyroll_every_days` and `keyroll_max_in_progress`, checked.
    fn keyroll_policy(&self) -> anyhow::Result<Option<crate::ops::KeyrollPolicy>> {
        let Some(days) = self.keyroll_every_days else {
            if self.keyroll_max_in_progress.is_some() {
                bail!("keyroll_max_in_progress needs keyroll_every_days");
            }
            return Ok(None);
        };
        if !(1..=3650).contains(&days) {
            bail!("keyroll_every_days = {days}: from 1 to 3650");
        }
        let max_in_progress = self.keyroll_max_in_progress.unwrap_or(10);
        if max_in_progress == 0 {
            bail!("keyroll_max_in_progress must be at least 1");
        }
        Ok(Some(crate::ops::KeyrollPolicy {
            every: chrono::TimeDelta::days(days.into()),
            max_in_progress,
        }))
    }

    /// The listeners' caps and timeouts: the file's, else the defaults.
    fn listen_limits(&self) -> crate::listeners::ListenLimits {
        let d = crate::listeners::ListenLimits::default();
        let secs =
            |v: Option<u64>, d: Duration| v.map(|s| Duration::from_secs(s.max(1))).unwrap_or(d);
        crate::listeners::ListenLimits {
            http_connections: self.http_max_connections.unwrap_or(d.http_connections),
            api_connections: self.api_max_connections.unwrap_or(d.api_connections),
            rtr_connections: self.rtr_max_connections.unwrap_or(d.rtr_connections),
            rsync_connections: self.rsync_max_connections.unwrap_or(d.rsync_connections),
            rsync_timeout: secs(self.rsync_timeout_seconds, d.rsync_timeout),
            per_address: self.max_connections_per_address.unwrap_or(d.per_address),
            exempt: self.connection_cap_exempt.clone().unwrap_or(d.exempt),
            fd_reserve: self.fd_reserve.unwrap_or(d.fd_reserve),
            header_timeout: secs(self.header_timeout_seconds, d.header_timeout),
            body_timeout: secs(self.body_timeout_seconds, d.body_timeout),
        }
    }
}

/// The host's name (the default instance name), or `anchorage` where it
/// cannot be read.
fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "anchorage".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_override_the_file() {
        let c: Config = toml::from_str(
            "http_listen = \"127.0.0.1:1\"\nrsync_listen = \"127.0.0.1:2\"\nmax_sleep_seconds = 5",
        )
        .unwrap();
        let o = c
            .serve_options(Overrides {
                http_listen: Some("127.0.0.1:9".parse().unwrap()),
                ..Overrides::default()
            })
            .unwrap();
        assert_eq!(o.http_listen.port(), 9);
        assert_eq!(o.rsync_listen.port(), 2);
        assert_eq!(o.max_sleep, Duration::from_secs(5));
        assert!(o.tls.is_none());
    }

    #[test]
    fn unknown_keys_and_half_tls_are_errors() {
        assert!(toml::from_str::<Config>("http_listn = \"1.2.3.4:5\"").is_err());
        let c: Config = toml::from_str("tls_cert = \"/x\"").unwrap();
        assert!(c.serve_options(Overrides::default()).is_err());
        let c: Config = toml::from_str("rtr_max_version = 3").unwrap();
        assert!(c.serve_options(Overrides::default()).is_err());
    }
}
