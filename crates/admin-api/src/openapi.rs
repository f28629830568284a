//! The OpenAPI 3.1 description of `/api/v1`, served at
//! `/api/v1/openapi.json`. The `api_contract` test checks that every
//! operation listed here is routed and that the router has no other.

use serde_json::{Value, json};

/// Every operation: (method, path, summary, roles allowed).
pub const OPERATIONS: &[(&str, &str, &str, &str)] = &[
    ("get", "/api/v1/cas", "List the CAs the token sees", "any"),
    (
        "post",
        "/api/v1/cas",
        "Create a hosted CA",
        "admin, ca-operator (below its CAs)",
    ),
    (
        "get",
        "/api/v1/cas/{handle}",
        "Show a CA: resources, certificate, objects, next due times",
        "any in scope",
    ),
    (
        "patch",
        "/api/v1/cas/{handle}",
        "Change a CA's resources",
        "admin, ca-operator (below its CAs)",
    ),
    (
        "delete",
        "/api/v1/cas/{handle}",
        "Delete a CA: revoke and withdraw everything",
        "admin, ca-operator (below its CAs)",
    ),
    (
        "get",
        "/api/v1/cas/{handle}/roas",
        "List a CA's ROA payloads, with an ETag",
        "any in scope",
    ),
    (
        "post",
        "/api/v1/cas/{handle}/roas",
        "Apply a batch of additions and removals, all or nothing",
        "admin, ca-operator",
    ),
    (
        "post",
        "/api/v1/cas/{handle}/roas/dry-run",
        "Analyse a batch without changing anything",
        "any in scope",
    ),
    (
        "get",
        "/api/v1/cas/{handle}/aspas",
        "List a CA's ASPAs, one per customer AS, with an ETag",
        "any in scope",
    ),
    (
        "post",
        "/api/v1/cas/{handle}/aspas",
        "Set (add or replace) and remove ASPAs, all or nothing",
        "admin, ca-operator",
    ),
    (
        "post",
        "/api/v1/cas/{handle}/aspas/dry-run",
        "Check an ASPA batch and show its warnings without changing anything",
        "any in scope",
    ),
    (
        "get",
        "/api/v1/cas/{handle}/router-certs",
        "List a CA's BGPsec router certificates (RFC 8209)",
        "any in scope",
    ),
    (
        "post",
        "/api/v1/cas/{handle}/router-certs",
        "Certify a router key from its PKCS#10 request (ECDSA P-256)",
        "admin, ca-operator",
    ),
    (
        "delete",
        "/api/v1/cas/{handle}/router-certs/{asn}/{ski}",
        "Revoke and withdraw a router certificate",
        "admin, ca-operator",
    ),
    (
        "get",
        "/api/v1/cas/{handle}/keyroll",
        "Show a CA's keys, their rollover states and the next step",
        "any in scope",
    ),
    (
        "post",
        "/api/v1/cas/{handle}/keyroll",
        "Start a key rollover (RFC 6489), activate the new key after its staging period, or cancel it before",
        "admin, ca-operator",
    ),
    (
        "get",
        "/api/v1/cas/{handle}/contact",
        "Show a CA's contact, published as its Ghostbusters record (RFC 6493)",
        "any in scope",
    ),
    (
        "put",
        "/api/v1/cas/{handle}/contact",
        "Set a CA's contact vCard (RFC 6493 §5); its Ghostbusters record is signed and published",
        "admin, ca-operator",
    ),
    (
        "delete",
        "/api/v1/cas/{handle}/contact",
        "Remove a CA's contact and withdraw its Ghostbusters record",
        "admin, ca-operator",
    ),
    (
        "get",
        "/api/v1/audit",
        "Read the audit log",
        "any (scoped tokens: their CAs)",
    ),
    ("get", "/api/v1/tokens", "List tokens", "admin"),
    (
        "post",
        "/api/v1/tokens",
        "Create a token (shown once)",
        "admin",
    ),
    ("delete", "/api/v1/tokens/{id}", "Revoke a token", "admin"),
    (
        "get",
        "/api/v1/keys",
        "The keys inventory: every key, its backend, state, CA, role and creation time",
        "admin",
    ),
    (
        "get",
        "/api/v1/children",
        "List delegated children (RFC 6492) and their certificates",
        "any (scoped tokens: children of CAs in scope)",
    ),
    (
        "post",
        "/api/v1/cas/{handle}/children",
        "Import an RFC 8183 child request under this CA; returns the parent response",
        "admin, ca-operator (CA in scope)",
    ),
    (
        "patch",
        "/api/v1/children/{handle}",
        "Change a delegated child's entitlement; lost resources are taken back at once",
        "admin, ca-operator (parent in scope)",
    ),
    (
        "delete",
        "/api/v1/children/{handle}",
        "Remove a delegated child and revoke its certificates",
        "admin, ca-operator (parent in scope)",
    ),
    (
        "get",
        "/api/v1/publishers",
        "List publishers of the RFC 8181 server",
        "admin, read-only",
    ),
    (
        "post",
        "/api/v1/publishers",
        "Import an RFC 8183 publisher request; returns the repository response",
        "admin",
    ),
    (
        "delete",
        "/api/v1/publishers/{handle}",
        "Remove a publisher and withdraw its objects",
        "admin",
    ),
    (
        "get",
        "/api/v1/parents",
        "List remote parents and their last sync",
        "admin, read-only",
    ),
    (
        "post",
        "/api/v1/parents",
        "Import an RFC 8183 parent response for a local CA",
        "admin",
    ),
    (
        "post",
        "/api/v1/parents/{handle}/sync",
        "Sync with the remote parent of a local CA now",
        "admin",
    ),
    (
        "delete",
        "/api/v1/parents/{handle}",
        "Remove the remote parent of a local CA; the CA and all it published are withdrawn",
        "admin",
    ),
    (
        "get",
        "/api/v1/repository",
        "The remote repository and how the last push to it went",
        "admin, read-only",
    ),
    (
        "delete",
        "/api/v1/repository",
        "Remove the remote repository (after the parents of the CAs that publish there)",
        "admin",
    ),
    ("get", "/api/v1/openapi.json", "This document", "public"),
];

fn schemas() -> Value {
    let roa = json!({
        "type": "object", "additionalProperties": false,
        "required": ["asn", "prefix"],
        "properties": {
            "asn": {"type": "integer", "minimum": 0, "maximum": 4294967295u32},
            "prefix": {"type": "string", "examples": ["192.0.2.0/24"]},
            "max_length": {"type": "integer", "minimum": 0, "maximum": 128}
        }
    });
    json!({
        "RoaSpec": roa,
        "RoaBatch": {
            "type": "object", "additionalProperties": false,
            "properties": {
                "add": {"type": "array", "items": {"$ref": "#/components/schemas/RoaSpec"}},
                "remove": {"type": "array", "items": {"$ref": "#/components/schemas/RoaSpec"}}
            }
        },
        "AddRouterCert": {
            "type": "object", "additionalProperties": false, "required": ["asn", "csr"],
            "properties": {
                "asn": {"type": "integer", "minimum": 0, "maximum": 4294967295u32},
                "csr": {"type": "string", "description": "PKCS#10 request with an ECDSA P-256 key: PEM, or DER in base64"}
            }
        },
        "AspaSpec": {
            "type": "object", "additionalProperties": false,
            "required": ["customer_as", "providers"],
            "properties": {
                "customer_as": {"type": "integer", "minimum": 1, "maximum": 4294967295u32},
                "providers": {"type": "array", "items": {"type": "integer", "minimum": 0, "maximum": 4294967295u32}}
            }
        },
        "AspaBatch": {
            "type": "object", "additionalProperties": false,
            "properties": {
                "add": {"type": "array", "items": {"$ref": "#/components/schemas/AspaSpec"}},
                "remove": {"type": "array", "items": {"type": "integer", "minimum": 1, "maximum": 4294967295u32}}
            }
        },
        "AspaBatchResult": {
            "type": "object",
            "properties": {
                "applied": {"type": "boolean"},
                "added": {"type": "integer"},
                "replaced": {"type": "integer"},
                "removed": {"type": "integer"},
                "unchanged": {"type": "integer"},
                "aspas": {"type": "array", "items": {"$ref": "#/components/schemas/AspaSpec"}},
                "warnings": {"type": "array", "items": {"type": "object", "properties": {
                    "code": {"type": "string", "enum": ["no-providers", "as0-with-others", "unlisted-neighbour"]},
                    "severity": {"type": "string", "enum": ["warning"]},
                    "message": {"type": "string"},
                    "customer_as": {"type": "integer"}
                }}}
            }
        },
        "Warning": {
            "type": "object",
            "properties": {
                "code": {"type": "string", "enum": ["max-length", "redundant", "as0", "as0-overlap", "non-minimal", "not-announced", "makes-invalid", "makes-not-found", "fixes-invalid"]},
                "severity": {"type": "string", "enum": ["info", "warning", "critical"]},
                "message": {"type": "string"},
                "prefixes": {"type": "array", "items": {"type": "string"}}
            }
        },
        "RoaBatchResult": {
            "type": "object",
            "properties": {
                "applied": {"type": "boolean"},
                "added": {"type": "integer"},
                "removed": {"type": "integer"},
                "unchanged": {"type": "integer"},
                "vrps_announced": {"type": "array", "items": {"$ref": "#/components/schemas/RoaSpec"}},
                "vrps_withdrawn": {"type": "array", "items": {"$ref": "#/components/schemas/RoaSpec"}},
                "warnings": {"type": "array", "items": {"$ref": "#/components/schemas/Warning"}},
                "route_changes": {"type": "array", "description": "With a BGP table loaded: the announced routes whose RFC 6811 validity the change moves, judged against every VRP of this repository (not other repositories'); the first 1000", "items": {"$ref": "#/components/schemas/RouteChange"}},
                "route_changes_total": {"type": "integer", "description": "How many announced routes the change moves in all"},
                "bgp_routes": {"type": ["integer", "null"], "description": "How many routes the BGP table the change was checked against holds; null when none is loaded (then no route was checked)"},
                "minimal_roas": {"type": "array", "description": "With a BGP table loaded: the minimal ROAs replacing each non-minimal ROA added (RFC 9319 §5)", "items": {"$ref": "#/components/schemas/MinimalRoas"}}
            }
        },
        "RouteChange": {
            "type": "object", "required": ["prefix", "origin", "before", "after"],
            "properties": {
                "prefix": {"type": "string", "description": "the announced prefix"},
                "origin": {"type": "integer", "description": "its origin AS"},
                "before": {"type": "string", "enum": ["valid", "invalid", "not-found"], "description": "RFC 6811 validity before the change"},
                "after": {"type": "string", "enum": ["valid", "invalid", "not-found"], "description": "RFC 6811 validity after it"}
            }
        },
        "MinimalRoas": {
            "type": "object", "required": ["replaces", "with"],
            "properties": {
                "replaces": {"$ref": "#/components/schemas/RoaSpec", "description": "a payload added whose maxLength authorises prefixes its origin does not announce"},
                "with": {"type": "array", "items": {"$ref": "#/components/schemas/RoaSpec"}, "description": "the announced prefixes it covers, one payload each without a maxLength (RFC 9319 §5)"}
            }
        },
        "CreateCa": {
            "type": "object", "additionalProperties": false, "required": ["handle", "resources"],
            "properties": {
                "handle": {"type": "string"},
                "parent": {"type": "string"},
                "resources": {"type": "string", "examples": ["AS64496, 192.0.2.0/24, 2001:db8::/32"]}
            }
        },
        "UpdateCa": {
            "type": "object", "additionalProperties": false, "required": ["resources"],
            "properties": {"resources": {"type": "string"}}
        },
        "Contact": {
            "type": "object", "additionalProperties": false, "required": ["vcard"],
            "properties": {"vcard": {"type": "string", "description": "a vCard 4.0 with CRLF line ends: BEGIN, VERSION, FN, at least one of ADR, TEL, EMAIL, optionally ORG, END (RFC 6493 §5)"}}
        },
        "Keyroll": {
            "type": "object", "additionalProperties": false, "required": ["action"],
            "properties": {
                "action": {"type": "string", "enum": ["start", "activate", "cancel"]},
                "staging_hours": {"type": "integer", "minimum": 0,
                    "description": "start only: the staging period (default: the configured one, 24 h)"}
            }
        },
        "CreateToken": {
            "type": "object", "additionalProperties": false, "required": ["role"],
            "properties": {
                "role": {"type": "string", "enum": ["admin", "ca-operator", "read-only"]},
                "cas": {"type": "array", "items": {"type": "string"}},
                "description": {"type": "string"}
            }
        },
        "AddChild": {
            "type": "object", "additionalProperties": false, "required": ["request", "resources"],
            "properties": {
                "request": {"type": "string", "description": "RFC 8183 <child_request/> XML"},
                "resources": {"type": "string"},
                "service_uri": {"type": "string", "description": "base of the RFC 6492 service URI"}
            }
        },
        "UpdateChild": {
            "type": "object", "additionalProperties": false, "required": ["resources"],
            "properties": {"resources": {"type": "string"}}
        },
        "AddPublisher": {
            "type": "object", "additionalProperties": false, "required": ["request"],
            "properties": {
                "request": {"type": "string", "description": "RFC 8183 <publisher_request/> XML"},
                "service_uri": {"type": "string", "description": "base of the RFC 8181 service URI"}
            }
        },
        "AddParent": {
            "type": "object", "additionalProperties": false, "required": ["handle", "response"],
            "properties": {
                "handle": {"type": "string", "description": "the local CA"},
                "response": {"type": "string", "description": "RFC 8183 <parent_response/> XML"}
            }
        },
        "Problem": {
            "type": "object",
            "description": "RFC 9457 problem details",
            "properties": {
                "type": {"type": "string"},
                "title": {"type": "string"},
                "status": {"type": "integer"},
                "detail": {"type": "string"},
                "field": {"type": "string"},
                "retry_after": {"type": "integer"}
            }
        }
    })
}

fn body_of(method: &str, path: &str) -> Option<&'static str> {
    match (method, path) {
        ("post", "/api/v1/cas") => Some("CreateCa"),
        ("patch", "/api/v1/cas/{handle}") => Some("UpdateCa"),
        ("post", p) if p.ends_with("/aspas") || p.ends_with("/aspas/dry-run") => Some("AspaBatch"),
        ("post", p) if p.ends_with("/roas") || p.ends_with("/roas/dry-run") => Some("RoaBatch"),
        ("post", "/api/v1/tokens") => Some("CreateToken"),
        ("post", "/api/v1/cas/{handle}/keyroll") => Some("Keyroll"),
        ("put", "/api/v1/cas/{handle}/contact") => Some("Contact"),
        ("post", "/api/v1/cas/{handle}/router-certs") => Some("AddRouterCert"),
        ("post", "/api/v1/cas/{handle}/children") => Some("AddChild"),
        ("patch", "/api/v1/children/{handle}") => Some("UpdateChild"),
        ("post", "/api/v1/publishers") => Some("AddPublisher"),
        ("post", "/api/v1/parents") => Some("AddParent"),
        _ => None,
    }
}

/// The success answers of an operation: status and what it means.
fn successes(method: &str, path: &str) -> Vec<(&'static str, &'static str)> {
    match (method, path) {
        ("post", "/api/v1/cas/{handle}/router-certs") => vec![
            ("201", "certified and published"),
            (
                "200",
                "this key was already certified for this AS: nothing changed",
            ),
        ],
        (
            "post",
            "/api/v1/cas"
            | "/api/v1/tokens"
            | "/api/v1/cas/{handle}/children"
            | "/api/v1/publishers"
            | "/api/v1/parents",
        ) => vec![("201", "created")],
        ("delete", _) | ("patch", "/api/v1/children/{handle}") => {
            vec![("204", "done; no body")]
        }
        _ => vec![("200", "success")],
    }
}

/// The document.
pub fn document() -> Value {
    let problem = json!({"description": "a problem", "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}});
    let mut paths = serde_json::Map::new();
    for (method, path, summary, roles) in OPERATIONS {
        let mut op = json!({
            "summary": summary,
            "description": format!("Roles: {roles}."),
            "responses": {
                "400": problem, "401": problem, "403": problem, "404": problem,
                "409": problem, "412": problem, "413": problem, "422": problem, "429": problem,
                "503": problem
            }
        });
        for (status, description) in successes(method, path) {
            op["responses"][status] = json!({ "description": description });
        }
        if *path != "/api/v1/openapi.json" {
            op["security"] = json!([{"bearer": []}, {"session": []}]);
        } else {
            op["security"] = json!([]);
        }
        let mut params = vec![];
        for name in ["handle", "id", "asn", "ski"] {
            if path.contains(&format!("{{{name}}}")) {
                params.push(json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}}));
            }
        }
        if path.ends_with("/roas") && *method == "post" || path.ends_with("/roas/dry-run") {
            params.push(
                json!({"name": "strict", "in": "query", "schema": {"type": "boolean"},
                "description": "critical warnings block the change"}),
            );
        }
        if path.ends_with("/roas") && *method == "post" {
            params.push(
                json!({"name": "If-Match", "in": "header", "schema": {"type": "string"},
                "description": "the ETag of the ROA list read before; 412 if it changed"}),
            );
        }
        if path.ends_with("/aspas") && *method == "post" {
            params.push(
                json!({"name": "If-Match", "in": "header", "schema": {"type": "string"},
                "description": "the ETag of the ASPA list read before; 412 if it changed"}),
            );
        }
        if *path == "/api/v1/audit" {
            for (name, desc) in [
                ("ca", "only this CA"),
                ("actor", "only this actor"),
                ("since", "RFC 3339 or epoch seconds"),
                ("until", "RFC 3339 or epoch seconds"),
                ("limit", "newest N, at most 1000 (default 100)"),
            ] {
                params.push(json!({"name": name, "in": "query", "schema": {"type": "string"}, "description": desc}));
            }
        }
        if !params.is_empty() {
            op["parameters"] = Value::Array(params);
        }
        if let Some(schema) = body_of(method, path) {
            op["requestBody"] = json!({"required": true, "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{schema}")}}}});
        }
        let entry = paths.entry(path.to_string()).or_insert_with(|| json!({}));
        entry[*method] = op;
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Anchorage admin API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "ROA and CA management of a hosted RPKI CA, with RFC 9319 warnings. Errors are RFC 9457 problem details."
        },
        "paths": paths,
        "components": {
            "schemas": schemas(),
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "description": "anc_<id>_<secret>, from `anchorage init` or `anchorage token create`"},
                "session": {"type": "apiKey", "in": "cookie", "name": "__Host-anchorage-session", "description": "the web interface's session, opened by POST /ui/session with {\"token\": \"anc_...\"}; every request made with it must also send the session's CSRF token in X-CSRF-Token (403 otherwise). Ignored when an Authorization header is sent."}
            }
        }
    })
}
