//! Request and response bodies of `/api/v1`. Requests refuse unknown
//! fields; errors name the field (`add[2].prefix`) and the rule.

use anchorage_ca_core::aspa::AspaWarning;
use anchorage_ca_core::{AspaDefinition, IpPrefix, RoaPayload};
use anchorage_engine::ops::AspaRequest;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::Problem;
use crate::warnings::Warning;

/// Parses a JSON request body strictly: unknown fields, wrong types and
/// out-of-range numbers are 400 problems naming the field.
pub fn parse_body<T: DeserializeOwned>(body: &[u8]) -> Result<T, Problem> {
    // Every body this API takes is one JSON object whose arrays hold
    // strings or objects: serde would also read a struct from an array
    // (`[]`, `[[64496, "192.0.2.0/24"]]`), which no client means.
    let value: serde_json::Value = serde_json::from_slice(body)
        .map_err(|e| Problem::bad_request(format!("malformed JSON body: {e}")))?;
    if !value.is_object() {
        return Err(Problem::bad_request(
            "wrong shape: the body must be a JSON object",
        ));
    }
    if let Some(path) = array_in_array(&value, String::new()) {
        return Err(Problem::bad_request(format!(
            "wrong shape: {path} is an array where an object or a value is expected"
        ))
        .field(path));
    }
    let de = &mut serde_json::Deserializer::from_slice(body);
    let parsed = serde_path_to_error::deserialize(&mut *de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        // "." is the whole body; "?" a place the parser could not name.
        if inner.is_syntax() || inner.is_eof() || path == "." || path == "?" {
            Problem::bad_request(format!("malformed JSON body: {inner}"))
        } else {
            Problem::bad_request(format!("{path}: {inner}")).field(path)
        }
    })?;
    // One value and nothing after it (serde_json stops at its end).
    de.end()
        .map_err(|e| Problem::bad_request(format!("malformed JSON body: {e}")))?;
    Ok(parsed)
}

/// The path of the first array directly inside an array, if any.
fn array_in_array(value: &serde_json::Value, path: String) -> Option<String> {
    match value {
        serde_json::Value::Object(map) => map.iter().find_map(|(k, v)| {
            let here = if path.is_empty() {
                k.clone()
            } else {
                format!("{path}.{k}")
            };
            array_in_array(v, here)
        }),
        serde_json::Value::Array(items) => items.iter().enumerate().find_map(|(i, v)| {
            let here = format!("{path}[{i}]");
            if v.is_array() {
                Some(here)
            } else {
                array_in_array(v, here)
            }
        }),
        _ => None,
    }
}

/// One ROA payload as the API takes and shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoaSpec {
    /// Origin AS number (0 to 4294967295).
    pub asn: u32,
    /// Prefix, e.g. `192.0.2.0/24`.
    pub prefix: String,
    /// maxLength; the prefix length when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_length: Option<u8>,
}

impl RoaSpec {
    /// The engine's payload, or a 422 naming `field`.
    pub fn payload(&self, field: &str) -> Result<RoaPayload, Problem> {
        let prefix = IpPrefix::parse_canonical(&self.prefix).map_err(|e| {
            Problem::invalid(format!("{field}.prefix: {e}")).field(format!("{field}.prefix"))
        })?;
        RoaPayload::new(self.asn, prefix, self.max_length).map_err(|e| {
            Problem::invalid(format!("{field}.max_length: {e}"))
                .field(format!("{field}.max_length"))
        })
    }

    /// The API form of a payload.
    pub fn from_payload(p: &RoaPayload) -> RoaSpec {
        RoaSpec {
            asn: p.asn,
            prefix: p.prefix.to_string(),
            max_length: Some(p.max_length),
        }
    }
}

/// `POST /cas/{handle}/roas` and its dry run: all or nothing.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoaBatch {
    /// Payloads to add (present ones are left as they are).
    #[serde(default)]
    pub add: Vec<RoaSpec>,
    /// Payloads to remove (each must exist).
    #[serde(default)]
    pub remove: Vec<RoaSpec>,
}

/// The most payloads one batch may carry.
pub const MAX_BATCH: usize = 10_000;

impl RoaBatch {
    /// The payloads to add and to remove, or a problem naming the first bad one.
    pub fn payloads(&self) -> Result<(Vec<RoaPayload>, Vec<RoaPayload>), Problem> {
        if self.add.len() + self.remove.len() > MAX_BATCH {
            return Err(Problem::invalid(format!(
                "a batch carries at most {MAX_BATCH} payloads"
            )));
        }
        let add = self
            .add
            .iter()
            .enumerate()
            .map(|(i, r)| r.payload(&format!("add[{i}]")))
            .collect::<Result<Vec<_>, _>>()?;
        let remove = self
            .remove
            .iter()
            .enumerate()
            .map(|(i, r)| r.payload(&format!("remove[{i}]")))
            .collect::<Result<Vec<_>, _>>()?;
        Ok((add, remove))
    }
}

/// The answer to a ROA batch or its dry run.
#[derive(Clone, Debug, Serialize)]
pub struct RoaBatchResult {
    /// Whether anything was published (false for a dry run or a block).
    pub applied: bool,
    /// Payloads added.
    pub added: usize,
    /// Payloads removed.
    pub removed: usize,
    /// Payloads asked for that already existed.
    pub unchanged: usize,
    /// VRPs routers will newly see.
    pub vrps_announced: Vec<RoaSpec>,
    /// VRPs routers will no longer see.
    pub vrps_withdrawn: Vec<RoaSpec>,
    /// RFC 9319 warnings about the result.
    pub warnings: Vec<Warning>,
    /// With a BGP table loaded: the announced routes whose RFC 6811
    /// validity the change moves (against the VRPs of this repository),
    /// the first [`ROUTE_CHANGES_SHOWN`] of them.
    pub route_changes: Vec<RouteChangeView>,
    /// How many announced routes the change moves in all.
    pub route_changes_total: usize,
    /// How many routes the BGP table the change was checked against
    /// holds; none when no table is loaded (`anchorage bgp load`), and
    /// then no route was checked.
    pub bgp_routes: Option<usize>,
    /// With a BGP table loaded: for each ROA added whose maxLength
    /// authorises unannounced prefixes, the minimal ROAs that replace it
    /// (RFC 9319 §5).
    pub minimal_roas: Vec<MinimalRoasView>,
}

/// The most route changes a batch answer lists; the warnings count them all.
pub const ROUTE_CHANGES_SHOWN: usize = 1000;

/// An announced route whose validity a change moves.
#[derive(Clone, Debug, Serialize)]
pub struct RouteChangeView {
    /// The announced prefix.
    pub prefix: String,
    /// Its origin AS.
    pub origin: u32,
    /// `valid`, `invalid` or `not-found` before the change.
    pub before: &'static str,
    /// The same after the change.
    pub after: &'static str,
}

/// A non-minimal ROA and the minimal ROAs that replace it.
#[derive(Clone, Debug, Serialize)]
pub struct MinimalRoasView {
    /// The ROA as given.
    pub replaces: RoaSpec,
    /// One ROA per announced prefix it covers.
    pub with: Vec<RoaSpec>,
}

impl RouteChangeView {
    /// The API form of a route change.
    pub fn from_change(c: &anchorage_engine::rfc9319::bgp::RouteChange) -> RouteChangeView {
        RouteChangeView {
            prefix: c.route.net.to_string(),
            origin: c.route.origin,
            before: c.before.as_str(),
            after: c.after.as_str(),
        }
    }
}

impl MinimalRoasView {
    /// The API form of a minimal replacement.
    pub fn from_minimal(m: &anchorage_engine::rfc9319::bgp::MinimalRoas) -> MinimalRoasView {
        MinimalRoasView {
            replaces: RoaSpec::from_payload(&m.replaces),
            with: m.with.iter().map(RoaSpec::from_payload).collect(),
        }
    }
}

/// One ASPA as the API takes and shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AspaSpec {
    /// The customer AS (1 to 4294967295).
    pub customer_as: u32,
    /// Its provider ASes; empty (or `[0]`) for "no transit provider".
    pub providers: Vec<u32>,
}

impl AspaSpec {
    /// The API form of a definition.
    pub fn from_definition(a: &AspaDefinition) -> AspaSpec {
        AspaSpec {
            customer_as: a.customer,
            providers: a.providers.clone(),
        }
    }
}

/// `POST /cas/{handle}/aspas` and its dry run: all or nothing.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AspaBatch {
    /// ASPAs to set: added, or replacing the providers of the customer
    /// AS's ASPA.
    #[serde(default)]
    pub add: Vec<AspaSpec>,
    /// Customer ASes whose ASPA is removed (each must exist).
    #[serde(default)]
    pub remove: Vec<u32>,
}

impl AspaBatch {
    /// The engine's requests, or a problem when the batch is too large.
    pub fn requests(&self) -> Result<Vec<AspaRequest>, Problem> {
        if self.add.len() + self.remove.len() > MAX_BATCH {
            return Err(Problem::invalid(format!(
                "a batch carries at most {MAX_BATCH} ASPAs"
            )));
        }
        Ok(self
            .add
            .iter()
            .map(|a| AspaRequest {
                customer: a.customer_as,
                providers: a.providers.clone(),
            })
            .collect())
    }
}

/// One ASPA warning: what looks wrong, though the ASPA is valid.
#[derive(Clone, Debug, Serialize)]
pub struct AspaWarningView {
    /// `no-providers`, `as0-with-others` or `unlisted-neighbour`.
    pub code: &'static str,
    /// Always `warning`: the ASPA is valid, but may not say what is meant.
    pub severity: &'static str,
    /// The explanation.
    pub message: String,
    /// The customer AS.
    pub customer_as: u32,
}

impl AspaWarningView {
    /// The API form of a warning.
    pub fn from_warning(w: &AspaWarning) -> AspaWarningView {
        let (code, customer_as) = match w {
            AspaWarning::NoProviders { customer } => ("no-providers", *customer),
            AspaWarning::As0WithOthers { customer } => ("as0-with-others", *customer),
            AspaWarning::UnlistedNeighbour { customer, .. } => ("unlisted-neighbour", *customer),
        };
        AspaWarningView {
            code,
            severity: "warning",
            message: w.to_string(),
            customer_as,
        }
    }
}

/// The answer to an ASPA batch or its dry run.
#[derive(Clone, Debug, Serialize)]
pub struct AspaBatchResult {
    /// Whether anything was published (false for a dry run).
    pub applied: bool,
    /// ASPAs of customer ASes that had none.
    pub added: usize,
    /// ASPAs whose providers changed.
    pub replaced: usize,
    /// ASPAs removed.
    pub removed: usize,
    /// ASPAs set as they already were.
    pub unchanged: usize,
    /// The CA's ASPAs after the batch.
    pub aspas: Vec<AspaSpec>,
    /// What looks wrong in the ASPAs set.
    pub warnings: Vec<AspaWarningView>,
}

/// `POST /cas/{handle}/router-certs`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddRouterCert {
    /// The AS the router speaks for.
    pub asn: u32,
    /// The router's PKCS#10 request: PEM, or DER in base64.
    pub csr: String,
}

impl AddRouterCert {
    /// The request's bytes (PEM as given, base64 decoded), or a 422.
    pub fn csr_bytes(&self) -> Result<Vec<u8>, Problem> {
        if self.csr.contains("-----BEGIN") {
            return Ok(self.csr.as_bytes().to_vec());
        }
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD
            .decode(self.csr.trim())
            .map_err(|_| {
                Problem::invalid("csr: neither PEM nor base64 DER").field("csr".to_string())
            })
    }
}

/// `POST /cas`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateCa {
    /// The new CA's handle.
    pub handle: String,
    /// Its parent (default: the online CA).
    #[serde(default)]
    pub parent: Option<String>,
    /// Its resources, e.g. `AS64496, 192.0.2.0/24`.
    pub resources: String,
}

/// `PATCH /cas/{handle}`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateCa {
    /// The CA's new resources.
    pub resources: String,
}

/// `PUT /cas/{handle}/contact`, and what `GET` answers.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Contact {
    /// The contact as a vCard (RFC 6493 §5), published as the CA's
    /// Ghostbusters record; `null` in a `GET` when there is none.
    pub vcard: Option<String>,
}

/// `POST /cas/{handle}/keyroll`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Keyroll {
    /// `start`, `activate` or `cancel`.
    pub action: KeyrollAction,
    /// For `start`: the staging period in hours.
    pub staging_hours: Option<u32>,
}

/// What `POST /cas/{handle}/keyroll` does.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum KeyrollAction {
    /// Start a rollover: a new key, certified, in its staging period.
    Start,
    /// Activate the new key after its staging period.
    Activate,
    /// Cancel a rollover in its staging period.
    Cancel,
}

/// `POST /tokens`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateToken {
    /// `admin`, `ca-operator` or `read-only`.
    pub role: String,
    /// CA handles it is limited to (with descendants).
    #[serde(default)]
    pub cas: Vec<String>,
    /// What it is for.
    #[serde(default)]
    pub description: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn errors_name_the_field() {
        let e =
            parse_body::<RoaBatch>(br#"{"add":[{"asn":-1,"prefix":"192.0.2.0/24"}]}"#).unwrap_err();
        assert_eq!(e.status, 400);
        assert_eq!(e.field.as_deref(), Some("add[0].asn"));
        let e = parse_body::<RoaBatch>(br#"{"add":[],"bogus":1}"#).unwrap_err();
        assert!(e.detail.contains("bogus"), "{}", e.detail);
        let e = parse_body::<RoaBatch>(b"{not json").unwrap_err();
        assert!(e.detail.starts_with("malformed JSON"), "{}", e.detail);
        let b = parse_body::<RoaBatch>(
            br#"{"add":[{"asn":64496,"prefix":"192.0.2.0/24","max_length":33}]}"#,
        )
        .unwrap();
        let e = b.payloads().unwrap_err();
        assert_eq!(
            (e.status, e.field.as_deref()),
            (422, Some("add[0].max_length"))
        );
        // One JSON object and nothing else: trailing data, other shapes.
        for body in [
            &br#"{"add":[]}{"add":[{"asn":1,"prefix":"192.0.2.0/24"}]}"#[..],
            br#"{"add":[]} x"#,
            b"[]",
            br#"[[{"asn":1,"prefix":"192.0.2.0/24"}]]"#,
            br#"{"add":[[1,"192.0.2.0/24"]]}"#,
            b"\"add\"",
        ] {
            let e = parse_body::<RoaBatch>(body).unwrap_err();
            assert_eq!(e.status, 400, "{}", String::from_utf8_lossy(body));
        }
        let e = parse_body::<RoaBatch>(br#"{"add":[[1,"192.0.2.0/24"]]}"#).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("add[0]"));
        assert!(parse_body::<RoaBatch>(b" {\"add\":[]}\n").is_ok());
        // A prefix in anything but its canonical form: 422 naming it.
        for prefix in ["10.1.0.0", " 10.1.0.0/16", "10.1.0.0/016", "10.1.0.0/+16"] {
            let body = json!({"add": [{"asn": 1, "prefix": prefix}]}).to_string();
            let e = parse_body::<RoaBatch>(body.as_bytes())
                .unwrap()
                .payloads()
                .unwrap_err();
            assert_eq!((e.status, e.field.as_deref()), (422, Some("add[0].prefix")));
        }
        let b =
            parse_body::<RoaBatch>(br#"{"remove":[{"asn":1,"prefix":"300.0.0.0/8"}]}"#).unwrap();
        assert_eq!(
            b.payloads().unwrap_err().field.as_deref(),
            Some("remove[0].prefix")
        );
    }
}

/// `POST /cas/{handle}/children`: an RFC 8183 child request to import.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddChild {
    /// The `<child_request/>` XML.
    pub request: String,
    /// What the child is entitled to.
    pub resources: String,
    /// Base of the service URI in the parent response (default: the
    /// origin of the RRDP URI).
    #[serde(default)]
    pub service_uri: Option<String>,
}

/// `PATCH /children/{handle}`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateChild {
    /// The new entitlement.
    pub resources: String,
}

/// `POST /publishers`: an RFC 8183 publisher request to import.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddPublisher {
    /// The `<publisher_request/>` XML.
    pub request: String,
    /// Base of the service URI in the repository response.
    #[serde(default)]
    pub service_uri: Option<String>,
}

/// `POST /parents`: an RFC 8183 parent response to import.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddParent {
    /// The local CA the parent certifies (created by the first sync).
    pub handle: String,
    /// The `<parent_response/>` XML.
    pub response: String,
}
