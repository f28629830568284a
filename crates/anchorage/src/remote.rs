//! The CLI's CA and ROA commands against a running `serve` over the admin
//! API (`--server URL --token TOKEN`), with the same output as locally.

use std::path::Path;

use anchorage_ca_core::RoaPayload;
use anyhow::{Context, bail};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::report::{CaDetails, CaSummary, KeyrollStatus, RoaInfo};

/// An admin API client.
pub struct Remote {
    agent: ureq::Agent,
    base: String,
    token: String,
}

/// What a remote ROA batch did, with its warnings.
#[derive(Debug, Clone)]
pub struct BatchOutcome {
    /// Payloads added.
    pub added: usize,
    /// Payloads removed.
    pub removed: usize,
    /// Additions already present.
    pub unchanged: usize,
    /// `(code, severity, message)` of each RFC 9319 warning.
    pub warnings: Vec<(String, String, String)>,
}

fn spec(p: &RoaPayload) -> Value {
    json!({"asn": p.asn, "prefix": p.prefix.to_string(), "max_length": p.max_length})
}

impl Remote {
    /// A client of the API at `server` (e.g. `https://rpki.example.net:8443`)
    /// with `token`, trusting the system's CAs and `ca_cert` (PEM).
    pub fn new(server: &str, token: &str, ca_cert: Option<&Path>) -> anyhow::Result<Remote> {
        if !server.starts_with("https://") {
            bail!("--server {server}: the admin API is served over https:// only");
        }
        let pem = match ca_cert {
            Some(p) => std::fs::read(p).with_context(|| format!("reading {}", p.display()))?,
            None => Vec::new(),
        };
        let agent = ureq::Agent::config_builder()
            .user_agent(crate::protocols::USER_AGENT)
            .tls_config(anchorage_validator::rrdp::tls_config(&pem)?)
            .http_status_as_error(false)
            .timeout_global(Some(std::time::Duration::from_secs(120)))
            .build()
            .new_agent();
        Ok(Remote {
            agent,
            base: server.trim_end_matches('/').to_string(),
            token: token.to_string(),
        })
    }

    fn call(&self, method: &str, path: &str, body: Option<&Value>) -> anyhow::Result<Value> {
        let url = format!("{}/api/v1{path}", self.base);
        let req = ureq::http::Request::builder()
            .method(method)
            .uri(&url)
            .header("Authorization", format!("Bearer {}", self.token))
            .header("Content-Type", "application/json")
            .body(body.map(|b| b.to_string()).unwrap_or_default())?;
        let mut resp = self
            .agent
            .run(req)
            .with_context(|| format!("{method} {url}"))?;
        let status = resp.status().as_u16();
        let text = resp
            .body_mut()
            .with_config()
            .limit(64 << 20)
            .read_to_string()?;
        let value: Value = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).with_context(|| format!("{method} {url}: not JSON"))?
        };
        if status >= 400 {
            let detail = value["detail"].as_str().unwrap_or(text.as_str());
            bail!("{detail} (HTTP {status} from {url})");
        }
        Ok(value)
    }

    fn get<T: DeserializeOwned>(&self, path: &str) -> anyhow::Result<T> {
        Ok(serde_json::from_value(self.call("GET", path, None)?)?)
    }

    /// `GET /cas`.
    pub fn list_cas(&self) -> anyhow::Result<Vec<CaSummary>> {
        self.get("/cas")
    }

    /// `GET /cas/{handle}`.
    pub fn show_ca(&self, handle: &str) -> anyhow::Result<CaDetails> {
        self.get(&format!("/cas/{handle}"))
    }

    /// `POST /cas`.
    pub fn create_ca(
        &self,
        handle: &str,
        resources: &str,
        parent: Option<&str>,
    ) -> anyhow::Result<CaDetails> {
        let mut body = json!({"handle": handle, "resources": resources});
        if let Some(p) = parent {
            body["parent"] = json!(p);
        }
        Ok(serde_json::from_value(self.call(
            "POST",
            "/cas",
            Some(&body),
        )?)?)
    }

    /// `PATCH /cas/{handle}`.
    pub fn update_ca(&self, handle: &str, resources: &str) -> anyhow::Result<CaDetails> {
        let body = json!({"resources": resources});
        Ok(serde_json::from_value(self.call(
            "PATCH",
            &format!("/cas/{handle}"),
            Some(&body),
        )?)?)
    }

    /// `GET /cas/{handle}/contact`: the CA's contact vCard, if any.
    pub fn contact(&self, handle: &str) -> anyhow::Result<Option<String>> {
        let doc: serde_json::Value = self.get(&format!("/cas/{handle}/contact"))?;
        Ok(doc["vcard"].as_str().map(str::to_string))
    }

    /// `PUT /cas/{handle}/contact`, or `DELETE` with `None`.
    pub fn set_contact(&self, handle: &str, vcard: Option<&str>) -> anyhow::Result<()> {
        let path = format!("/cas/{handle}/contact");
        match vcard {
            Some(v) => self.call("PUT", &path, Some(&json!({"vcard": v})))?,
            None => self.call("DELETE", &path, None)?,
        };
        Ok(())
    }

    /// `GET /cas/{handle}/keyroll`.
    pub fn keyroll_status(&self, handle: &str) -> anyhow::Result<KeyrollStatus> {
        self.get(&format!("/cas/{handle}/keyroll"))
    }

    /// `POST /cas/{handle}/keyroll`: `action` is `start` or `activate`.
    pub fn keyroll(
        &self,
        handle: &str,
        action: &str,
        staging_hours: Option<u32>,
    ) -> anyhow::Result<KeyrollStatus> {
        let mut body = json!({"action": action});
        if let Some(h) = staging_hours {
            body["staging_hours"] = json!(h);
        }
        Ok(serde_json::from_value(self.call(
            "POST",
            &format!("/cas/{handle}/keyroll"),
            Some(&body),
        )?)?)
    }

    /// `DELETE /cas/{handle}`.
    pub fn delete_ca(&self, handle: &str) -> anyhow::Result<()> {
        self.call("DELETE", &format!("/cas/{handle}"), None)?;
        Ok(())
    }

    /// `GET /cas/{handle}/roas`.
    pub fn list_roas(&self, handle: &str) -> anyhow::Result<Vec<RoaInfo>> {
        self.get(&format!("/cas/{handle}/roas"))
    }

    /// `GET /cas/{handle}/aspas`: `[{customer_as, providers}]`.
    pub fn list_aspas(&self, handle: &str) -> anyhow::Result<Value> {
        self.call("GET", &format!("/cas/{handle}/aspas"), None)
    }

    /// `POST /cas/{handle}/aspas` (or its dry run) with an `AspaBatch`
    /// body; the `AspaBatchResult`.
    pub fn aspa_batch(&self, handle: &str, body: &Value, dry: bool) -> anyhow::Result<Value> {
        let path = if dry {
            format!("/cas/{handle}/aspas/dry-run")
        } else {
            format!("/cas/{handle}/aspas")
        };
        self.call("POST", &path, Some(body))
    }

    /// `POST /cas/{handle}/roas` (or its dry run).
    pub fn roa_batch(
        &self,
        handle: &str,
        add: &[RoaPayload],
        remove: &[RoaPayload],
        dry: bool,
    ) -> anyhow::Result<BatchOutcome> {
        let body = json!({
            "add": add.iter().map(spec).collect::<Vec<_>>(),
            "remove": remove.iter().map(spec).collect::<Vec<_>>(),
        });
        let path = if dry {
            format!("/cas/{handle}/roas/dry-run")
        } else {
            format!("/cas/{handle}/roas")
        };
        let r = self.call("POST", &path, Some(&body))?;
        let n = |k: &str| r[k].as_u64().unwrap_or(0) as usize;
        Ok(BatchOutcome {
            added: n("added"),
            removed: n("removed"),
            unchanged: n("unchanged"),
            warnings: r["warnings"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|w| {
                    let s = |k: &str| w[k].as_str().unwrap_or_default().to_string();
                    (s("code"), s("severity"), s("message"))
                })
                .collect(),
        })
    }
}
