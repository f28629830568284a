//! Anchorage as the parent of a delegated CA (RFC 8183 setup, RFC 6492
//! list/issue/revoke) and as its publication server (RFC 8181): the
//! external CA builds its messages with the `rpki` crate, gets its
//! certificate, publishes its ROA next to the hosted CAs, and rpki-client,
//! FORT and the bundled validator see its VRP. Replayed, tampered and
//! wrongly signed messages are refused and change nothing.

mod common;

use std::path::Path;

use anchorage::ops::Refusal;
use anchorage_ca_core::RoaPayload;
use common::external::{External, issued, setup};
use common::{Cli, snapshot, validate_everywhere, vrps};
use rpki::ca::idexchange::{ParentResponse, RepositoryResponse};
use rpki::ca::provisioning::{IssuanceRequest, Payload, RequestResourceLimit, RevocationRequest};
use rpki::ca::publication::{self, Reply, ReportErrorCode};
use rpki::repository::cert::Cert;
use rpki::repository::crl::Crl;

fn refused(payload: Payload) -> u64 {
    match payload {
        Payload::ErrorResponse(e) => e.status(),
        other => panic!("expected an error response, got {other:?}"),
    }
}

/// Every row of every table (the BPKI identity and replay state
/// included) and every published file.
fn store_rows(dir: &Path) -> common::api::State {
    common::api::state_now(dir)
}

#[test]
fn delegated_child_gets_a_certificate_and_publishes_its_roa() {
    let tmp = tempfile::tempdir().unwrap();
    let (cli, ext, mut a) = setup(tmp.path());

    // list: one class with the entitlement, signed by the parent.
    let reply = a
        .rfc6492("online", "lirx", &ext.provisioning(Payload::List))
        .unwrap();
    match ext.provisioning_reply(&reply) {
        Payload::ListResponse(list) => {
            assert_eq!(list.classes().len(), 1);
            let class = &list.classes()[0];
            assert_eq!(
                class.resource_set().to_string(),
                "asn: 'AS65000-AS65001', ipv4: '10.0.0.0/16', ipv6: ''"
            );
            assert!(class.issued_certs().is_empty());
        }
        other => panic!("expected a list response, got {other:?}"),
    }

    // issue: a certificate for the CA key, with the SIA the CSR names.
    let ca_key = ext.keys.generate().unwrap();
    let reply = a
        .rfc6492(
            "online",
            "lirx",
            &ext.provisioning(ext.issue_request(&ca_key, RequestResourceLimit::new())),
        )
        .unwrap();
    let (cert_uri, cert) = issued(ext.provisioning_reply(&reply));
    assert_eq!(
        cert_uri.as_str(),
        format!("rsync://127.0.0.1/repo/online/{ca_key}.cer")
    );
    assert_eq!(
        cert.ca_repository().unwrap().as_str(),
        "rsync://127.0.0.1/repo/lirx/ca/"
    );
    assert!(cli.tree().join(format!("online/{ca_key}.cer")).exists());

    // publish the child's point at our RFC 8181 server.
    let roa = RoaPayload::new(65000, "10.0.0.0/24".parse().unwrap(), None).unwrap();
    let delta = ext.build_point(&ca_key, &cert, &cert_uri, &[roa]);
    let reply = a
        .rfc8181("lirx", &ext.publication(publication::Message::delta(delta)))
        .unwrap();
    assert_eq!(ext.publication_reply(&reply), Reply::Success);
    let published = std::fs::read_dir(cli.tree().join("lirx/ca"))
        .unwrap()
        .count();
    assert_eq!(published, 3, "ROA, manifest and CRL in the rsync tree");
    // The audit log names the peers whose signed messages made the changes.
    let log = a.audit_log(&Default::default()).unwrap();
    let by = |action: &str| {
        log.iter()
            .rev()
            .find(|e| e.action == action)
            .map(|e| e.actor.clone())
    };
    assert_eq!(by("child issue").as_deref(), Some("child:lirx"));
    assert_eq!(by("publisher delta").as_deref(), Some("publisher:lirx"));

    // list at the publication server: the three objects and their hashes.
    let reply = a
        .rfc8181("lirx", &ext.publication(publication::Message::list_query()))
        .unwrap();
    match ext.publication_reply(&reply) {
        Reply::List(list) => {
            assert_eq!(list.elements().len(), 3);
            for e in list.elements() {
                let rel = e
                    .uri()
                    .as_str()
                    .strip_prefix("rsync://127.0.0.1/repo/")
                    .unwrap();
                let bytes = std::fs::read(cli.tree().join(rel)).unwrap();
                assert!(e.hash().matches(&bytes), "{} hash", e.uri());
            }
        }
        other => panic!("expected a list reply, got {other:?}"),
    }

    // Independent validators see the delegated CA's ROA next to the hosted one.
    let work = tmp.path().join("work");
    std::fs::create_dir_all(&work).unwrap();
    let rsyncd = cli.serve(&work);
    validate_everywhere(
        &cli,
        &rsyncd,
        &work,
        &vrps(&[(64500, "192.0.2.0/24", 24), (65000, "10.0.0.0/24", 24)]),
    );

    // The parent shrinks the entitlement: the certificate is reissued at
    // once without 10.0.0.0/24, so the child's ROA no longer validates.
    cli.ok(&[
        "child",
        "update",
        "lirx",
        "--resources",
        "AS65000, 10.0.1.0/24",
    ]);
    let shrunk = Cert::decode(common::read(
        cli.tree().join(format!("online/{ca_key}.cer")),
    ))
    .unwrap();
    let v4 = shrunk.v4_resources().to_blocks().unwrap();
    assert_eq!(v4.as_v4().to_string(), "10.0.1.0/24");
    let run = anchorage_testkit::rpki_client(&cli.tal(), &rsyncd, &work.join("rc2")).unwrap();
    assert_eq!(
        run.vrps,
        vrps(&[(64500, "192.0.2.0/24", 24)]),
        "{}",
        run.log
    );
    let reply = a
        .rfc6492("online", "lirx", &ext.provisioning(Payload::List))
        .unwrap();
    match ext.provisioning_reply(&reply) {
        Payload::ListResponse(list) => {
            let class = &list.classes()[0];
            assert_eq!(
                class.resource_set().to_string(),
                "asn: 'AS65000', ipv4: '10.0.1.0/24', ipv6: ''"
            );
            assert_eq!(class.issued_certs().len(), 1);
        }
        other => panic!("expected a list response, got {other:?}"),
    }

    // revoke: the certificate is withdrawn and its serial is on the CRL.
    let serial = shrunk.serial_number();
    let reply = a
        .rfc6492(
            "online",
            "lirx",
            &ext.provisioning(ext.revoke_request(&ca_key)),
        )
        .unwrap();
    assert!(matches!(
        ext.provisioning_reply(&reply),
        Payload::RevokeResponse(_)
    ));
    assert!(!cli.tree().join(format!("online/{ca_key}.cer")).exists());
    let online_key = cli.key_id("online");
    let crl = Crl::decode(common::read(
        cli.tree().join(format!("online/{online_key}.crl")),
    ))
    .unwrap();
    assert!(crl.contains(serial), "revoked serial on the parent's CRL");
    // Revoking it again: RFC 6492 error 1302, no such key.
    let reply = a
        .rfc6492(
            "online",
            "lirx",
            &ext.provisioning(ext.revoke_request(&ca_key)),
        )
        .unwrap();
    assert_eq!(refused(ext.provisioning_reply(&reply)), 1302);
}

#[test]
fn bad_provisioning_requests_get_rfc6492_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let (cli, ext, mut a) = setup(tmp.path());
    let key = ext.keys.generate().unwrap();
    let before = snapshot(&cli.tree());

    // A limit outside the entitlement in every family leaves nothing to
    // certify: 1202. (A family the limit leaves out is not limited.)
    let mut limit = RequestResourceLimit::new();
    limit.with_asn("AS1".parse().unwrap());
    limit.with_ipv4("192.0.2.0/24".parse().unwrap());
    limit.with_ipv6("2001:db8::/32".parse().unwrap());
    let reply = a
        .rfc6492(
            "online",
            "lirx",
            &ext.provisioning(ext.issue_request(&key, limit)),
        )
        .unwrap();
    assert_eq!(refused(ext.provisioning_reply(&reply)), 1202);

    // An unknown resource class: 1201 for issue, 1301 for revoke.
    let Payload::Issue(req) = ext.issue_request(&key, RequestResourceLimit::new()) else {
        unreachable!()
    };
    let (_, limit, csr) = req.unpack();
    let other_class = Payload::Issue(IssuanceRequest::new("other".into(), limit, csr));
    let reply = a
        .rfc6492("online", "lirx", &ext.provisioning(other_class))
        .unwrap();
    assert_eq!(refused(ext.provisioning_reply(&reply)), 1201);
    let reply = a
        .rfc6492(
            "online",
            "lirx",
            &ext.provisioning(Payload::Revoke(RevocationRequest::new("other".into(), key))),
        )
        .unwrap();
    assert_eq!(refused(ext.provisioning_reply(&reply)), 1301);
    assert_eq!(before, snapshot(&cli.tree()), "nothing published");

    // A key certified for one child cannot be certified for another: 1204.
    let reply = a
        .rfc6492(
            "online",
            "lirx",
            &ext.provisioning(ext.issue_request(&key, RequestResourceLimit::new())),
        )
        .unwrap();
    issued(ext.provisioning_reply(&reply));
    // A second key (a rollover) is fine; a third is not.
    let key2 = ext.keys.generate().unwrap();
    let reply = a
        .rfc6492(
            "online",
            "lirx",
            &ext.provisioning(ext.issue_request(&key2, RequestResourceLimit::new())),
        )
        .unwrap();
    issued(ext.provisioning_reply(&reply));
    let key3 = ext.keys.generate().unwrap();
    let reply = a
        .rfc6492(
            "online",
            "lirx",
            &ext.provisioning(ext.issue_request(&key3, RequestResourceLimit::new())),
        )
        .unwrap();
    assert_eq!(refused(ext.provisioning_reply(&reply)), 2001);
    // A second child that holds the same private key.
    let mut twin = External::new("lirz", &tmp.path().join("lirx-keys"));
    let req = tmp.path().join("twin.xml");
    std::fs::write(&req, twin.child_request()).unwrap();
    let resp = cli.ok(&[
        "child",
        "add",
        "online",
        "--request",
        req.to_str().unwrap(),
        "--resources",
        "AS65002",
    ]);
    twin.parent = Some(ParentResponse::parse(resp.as_bytes()).unwrap());
    twin.repository = ext.repository.clone();
    let reply = a
        .rfc6492(
            "online",
            "lirz",
            &twin.provisioning(twin.issue_request(&key, RequestResourceLimit::new())),
        )
        .unwrap();
    assert_eq!(refused(twin.provisioning_reply(&reply)), 1204);
}

#[test]
fn replayed_tampered_and_foreign_messages_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let (cli, ext, mut a) = setup(tmp.path());

    // RFC 6492.
    let first = ext.provisioning(Payload::List);
    a.rfc6492("online", "lirx", &first).unwrap();
    let rows = store_rows(&cli.dir);
    let tree = snapshot(&cli.tree());
    let forbidden = |r: Result<bytes::Bytes, Refusal>| match r {
        Err(Refusal::Forbidden(why)) => why,
        other => panic!("expected a refusal, got {other:?}"),
    };
    let why = forbidden(a.rfc6492("online", "lirx", &first));
    assert!(why.contains("replay"), "{why}");
    // Signed by another identity claiming the child's handle.
    let mut impostor = External::new("lirx", &tmp.path().join("impostor-keys"));
    impostor.parent = ext.parent.clone();
    let why = forbidden(a.rfc6492("online", "lirx", &impostor.provisioning(Payload::List)));
    assert!(why.contains("not signed by the identity"), "{why}");
    // The child's own key, but claiming to be someone else.
    let why = forbidden(a.rfc6492(
        "online",
        "lirx",
        &ext.provisioning_as("member", Payload::List, &ext.id_key),
    ));
    assert!(why.contains("from 'member'"), "{why}");
    // Tampered after signing: the sender attribute changed.
    let mut tampered = ext.provisioning(Payload::List).to_vec();
    let at = tampered
        .windows(13)
        .position(|w| w == b"sender=\"lirx\"")
        .expect("sender in the content");
    tampered[at + 11] = b'y';
    let why = forbidden(a.rfc6492("online", "lirx", &tampered));
    assert!(why.contains("not signed by the identity"), "{why}");
    // Not CMS at all, or for an unknown child: no signed reply.
    assert!(matches!(
        a.rfc6492("online", "lirx", b"<xml/>"),
        Err(Refusal::BadMessage(_))
    ));
    assert!(matches!(
        a.rfc6492("online", "nobody", &ext.provisioning(Payload::List)),
        Err(Refusal::NotFound(_))
    ));
    assert!(matches!(
        a.rfc6492("member", "lirx", &ext.provisioning(Payload::List)),
        Err(Refusal::NotFound(_))
    ));
    assert_eq!(rows, store_rows(&cli.dir), "refusals changed the store");
    // An older message, sent after a newer one was accepted.
    let older = ext.provisioning(Payload::List);
    std::thread::sleep(std::time::Duration::from_millis(1100));
    a.rfc6492("online", "lirx", &ext.provisioning(Payload::List))
        .unwrap();
    let why = forbidden(a.rfc6492("online", "lirx", &older));
    assert!(why.contains("older"), "{why}");

    // RFC 8181: the same rules.
    let list = ext.publication(publication::Message::list_query());
    a.rfc8181("lirx", &list).unwrap();
    let rows = store_rows(&cli.dir);
    let why = forbidden(a.rfc8181("lirx", &list));
    assert!(why.contains("replay"), "{why}");
    let mut impostor_pub = External::new("lirx", &tmp.path().join("impostor2-keys"));
    impostor_pub.repository = ext.repository.clone();
    let why = forbidden(a.rfc8181(
        "lirx",
        &impostor_pub.publication(publication::Message::list_query()),
    ));
    assert!(why.contains("not signed by the identity"), "{why}");
    assert!(matches!(
        a.rfc8181(
            "nobody",
            &ext.publication(publication::Message::list_query())
        ),
        Err(Refusal::NotFound(_))
    ));
    assert_eq!(tree, snapshot(&cli.tree()), "refusals publish nothing");
    assert_eq!(rows, store_rows(&cli.dir), "refusals changed the store");
}

#[test]
fn publishers_cannot_leave_their_base_or_clobber_objects() {
    let tmp = tempfile::tempdir().unwrap();
    let (cli, ext, mut a) = setup(tmp.path());
    let tree = snapshot(&cli.tree());
    let publish = |uri: &str| {
        let mut delta = rpki::ca::publication::PublishDelta::empty();
        delta.add_publish(rpki::ca::publication::Publish::new(
            None,
            rpki::uri::Rsync::from_string(uri.to_string()).unwrap(),
            rpki::ca::publication::Base64::from_content(b"x"),
        ));
        delta
    };
    let error_codes = |reply: Reply| -> Vec<String> {
        match reply {
            Reply::ErrorReply(e) => e
                .to_string()
                .split("error code: ")
                .skip(1)
                .map(|s| s.split([',', ' ']).next().unwrap_or_default().to_string())
                .collect(),
            other => panic!("expected an error reply, got {other:?}"),
        }
    };
    let code = |c: ReportErrorCode| vec![c.to_string()];
    for uri in [
        "rsync://127.0.0.1/repo/online/evil.cer",
        "rsync://127.0.0.1/repo/lirxx/evil.cer",
        "rsync://127.0.0.1/repo/ta.cer",
        "rsync://127.0.0.1/repo/lirx/.hidden",
        "rsync://other.example/repo/lirx/a.cer",
    ] {
        let reply = a
            .rfc8181(
                "lirx",
                &ext.publication(publication::Message::delta(publish(uri))),
            )
            .unwrap();
        assert_eq!(
            error_codes(ext.publication_reply(&reply)),
            code(ReportErrorCode::PermissionFailure),
            "{uri}"
        );
    }
    // A path with dot segments does not even parse as an rsync URI: the
    // message is refused outright.
    let raw = r#"<msg xmlns="http://www.hactrn.net/uris/rpki/publication-spec/" version="4" type="query"><publish uri="rsync://127.0.0.1/repo/lirx/../online/evil.cer">eA==</publish></msg>"#;
    assert!(matches!(
        a.rfc8181("lirx", &ext.sign_raw(raw)),
        Err(Refusal::BadMessage(_))
    ));
    // One good and one bad element: all or nothing.
    let both = publish("rsync://127.0.0.1/repo/lirx/ok.cer")
        + publish("rsync://127.0.0.1/repo/online/evil.cer");
    let reply = a
        .rfc8181("lirx", &ext.publication(publication::Message::delta(both)))
        .unwrap();
    assert!(matches!(
        ext.publication_reply(&reply),
        Reply::ErrorReply(_)
    ));
    assert_eq!(tree, snapshot(&cli.tree()), "nothing published");

    // Publish, then publish again without a hash: already present.
    let uri = "rsync://127.0.0.1/repo/lirx/a.cer";
    let reply = a
        .rfc8181(
            "lirx",
            &ext.publication(publication::Message::delta(publish(uri))),
        )
        .unwrap();
    assert_eq!(ext.publication_reply(&reply), Reply::Success);
    assert_eq!(std::fs::read(cli.tree().join("lirx/a.cer")).unwrap(), b"x");
    let reply = a
        .rfc8181(
            "lirx",
            &ext.publication(publication::Message::delta(publish(uri))),
        )
        .unwrap();
    assert_eq!(
        error_codes(ext.publication_reply(&reply)),
        code(ReportErrorCode::ObjectAlreadyPresent)
    );
    // A file where a directory would have to be: a consistency problem.
    let reply = a
        .rfc8181(
            "lirx",
            &ext.publication(publication::Message::delta(publish(
                "rsync://127.0.0.1/repo/lirx/a.cer/b.roa",
            ))),
        )
        .unwrap();
    assert_eq!(
        error_codes(ext.publication_reply(&reply)),
        code(ReportErrorCode::ConsistencyProblem)
    );
    // Withdraw with the wrong hash, then the right one.
    let reply = a
        .rfc8181(
            "lirx",
            &ext.publication(publication::Message::delta(External::withdraw(uri, b"y"))),
        )
        .unwrap();
    assert_eq!(
        error_codes(ext.publication_reply(&reply)),
        code(ReportErrorCode::NoObjectMatchingHash)
    );
    let reply = a
        .rfc8181(
            "lirx",
            &ext.publication(publication::Message::delta(External::withdraw(uri, b"x"))),
        )
        .unwrap();
    assert_eq!(ext.publication_reply(&reply), Reply::Success);
    assert!(!cli.tree().join("lirx/a.cer").exists());

    // A publisher handle cannot be taken by a CA, nor a CA's by a publisher.
    let err = cli.fails(&["ca", "create", "lirx", "--resources", "AS64501"]);
    assert!(err.contains("already exists"), "{err}");
    let member = External::new("member", &tmp.path().join("member-keys"));
    let req = tmp.path().join("member_request.xml");
    std::fs::write(&req, member.publisher_request()).unwrap();
    let err = cli.fails(&["publisher", "add", "--request", req.to_str().unwrap()]);
    assert!(err.contains("already exists"), "{err}");
}

#[test]
fn bad_rfc8183_files_are_refused_and_change_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let (cli, ext, _a) = setup(tmp.path());
    let rows = store_rows(&cli.dir);
    let bad = tmp.path().join("bad.xml");
    let billion_laughs = r#"<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>
<child_request xmlns="http://www.hactrn.net/uris/rpki/rpki-setup/" version="1" child_handle="&lol2;"><child_bpki_ta>AAAA</child_bpki_ta></child_request>"#;
    let huge_attr = format!(
        r#"<child_request xmlns="http://www.hactrn.net/uris/rpki/rpki-setup/" version="1" child_handle="{}"><child_bpki_ta>AAAA</child_bpki_ta></child_request>"#,
        "a".repeat(1 << 20)
    );
    let invalid = "invalid child request";
    let cases: Vec<(&str, String, &str, &str)> = vec![
        ("entities", billion_laughs.to_string(), "AS64500", invalid),
        ("huge handle", huge_attr, "AS64500", invalid),
        ("not xml", "garbage".into(), "AS64500", invalid),
        (
            "duplicate child",
            ext.child_request(),
            "AS64500",
            "already exists",
        ),
        (
            "over-claim",
            External::new("other", &tmp.path().join("o-keys")).child_request(),
            "AS1",
            "not held by its parent",
        ),
    ];
    for (what, xml, res, expected) in cases {
        std::fs::write(&bad, xml).unwrap();
        // `member` holds AS64500 and 192.0.2.0/24 only.
        let mut args = vec!["child", "add", "member", "--request", bad.to_str().unwrap()];
        args.extend(["--resources", res]);
        let err = cli.fails(&args);
        assert!(err.contains(expected), "{what}: {err}");
        assert_eq!(rows, store_rows(&cli.dir), "{what} changed the store");
    }
    std::fs::write(&bad, "garbage").unwrap();
    cli.fails(&["publisher", "add", "--request", bad.to_str().unwrap()]);
    cli.fails(&["child", "update", "nobody", "--resources", "AS65000"]);
    cli.fails(&["child", "remove", "nobody"]);
    cli.fails(&["publisher", "remove", "nobody"]);
    assert_eq!(rows, store_rows(&cli.dir));
}

#[test]
fn protocols_are_served_over_http_with_problem_bodies_for_bad_requests() {
    let tmp = tempfile::tempdir().unwrap();
    let (cli, ext, a) = setup(tmp.path());
    drop(a);
    let serve = common::api::serve(&cli, "");
    let agent = anchorage::protocols::client(&[]).unwrap();
    let updown = anchorage::protocols::UPDOWN_TYPE;
    let post = |path: &str, media: &str, body: &[u8]| {
        anchorage::protocols::post(&agent, &format!("{}{path}", serve.http), media, body).unwrap()
    };

    let (status, reply) = post(
        "/rfc6492/online/lirx",
        updown,
        &ext.provisioning(Payload::List),
    );
    assert_eq!(status, 200);
    assert!(matches!(
        ext.provisioning_reply(&reply),
        Payload::ListResponse(_)
    ));
    let (status, reply) = post(
        "/rfc8181/lirx",
        anchorage::protocols::PUBLICATION_TYPE,
        &ext.publication(publication::Message::list_query()),
    );
    assert_eq!(status, 200);
    assert!(matches!(ext.publication_reply(&reply), Reply::List(_)));

    let problem = |(status, body): (u16, Vec<u8>)| {
        let doc: serde_json::Value = serde_json::from_slice(&body).expect("a JSON problem");
        assert!(doc["detail"].as_str().is_some_and(|d| !d.is_empty()));
        status
    };
    assert_eq!(
        problem(post("/rfc6492/online/lirx", updown, b"garbage")),
        400
    );
    assert_eq!(
        problem(post(
            "/rfc6492/online/nobody",
            updown,
            &ext.provisioning(Payload::List)
        )),
        404
    );
    let replayed = ext.provisioning(Payload::List);
    assert_eq!(post("/rfc6492/online/lirx", updown, &replayed).0, 200);
    assert_eq!(
        problem(post("/rfc6492/online/lirx", updown, &replayed)),
        403
    );
    // Larger than an RFC 6492 message may be: 413, or the connection is
    // closed before the client has finished sending.
    match anchorage::protocols::post(
        &agent,
        &format!("{}/rfc6492/online/lirx", serve.http),
        updown,
        &vec![0u8; 2 << 20],
    ) {
        Ok((status, _)) => assert_eq!(status, 413),
        Err(e) => assert!(format!("{e:#}").contains("Broken pipe"), "{e:#}"),
    }
}

#[test]
fn children_and_publishers_through_the_api_follow_roles_and_audit() {
    use serde_json::json;
    let tmp = tempfile::tempdir().unwrap();
    let cli = Cli::init(&tmp.path().join("data"));
    cli.ca_create("member", None, "AS64500-AS64501, 192.0.2.0/24");
    cli.ca_create("other", None, "AS64502, 198.51.100.0/24");
    let serve = common::api::serve(&cli, "");
    let c = common::api::Client::new(&cli, &serve.api);
    let admin = common::api::token(&cli, &["--role", "admin"]);
    let member_op = common::api::token(&cli, &["--role", "ca-operator", "--ca", "member"]);
    let other_op = common::api::token(&cli, &["--role", "ca-operator", "--ca", "other"]);
    let reader = common::api::token(&cli, &["--role", "read-only"]);
    let ext = External::new("lirx", &tmp.path().join("lirx-keys"));
    let add = json!({"request": ext.child_request(), "resources": "AS64500, 192.0.2.0/25"});

    // Scope: a CA operator adds children only to CAs in its scope.
    assert_eq!(
        c.json(
            "POST",
            "/api/v1/cas/online/children",
            &member_op,
            add.clone()
        )
        .status,
        404
    );
    assert_eq!(
        c.json(
            "POST",
            "/api/v1/cas/member/children",
            &other_op,
            add.clone()
        )
        .status,
        404
    );
    assert_eq!(
        c.json("POST", "/api/v1/cas/member/children", &reader, add.clone())
            .status,
        403
    );
    // Bad input: unknown field, bad XML, over-claim.
    let r = c.json(
        "POST",
        "/api/v1/cas/member/children",
        &member_op,
        json!({"request": "x", "resources": "AS64500", "extra": 1}),
    );
    assert_eq!(r.status, 400, "{}", r.body);
    let r = c.json(
        "POST",
        "/api/v1/cas/member/children",
        &member_op,
        json!({"request": "<x/>", "resources": "AS64500"}),
    );
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(
        r.body["detail"].as_str().unwrap().contains("child request"),
        "{}",
        r.body
    );
    let r = c.json(
        "POST",
        "/api/v1/cas/member/children",
        &member_op,
        json!({"request": ext.child_request(), "resources": "AS1"}),
    );
    assert_eq!(r.status, 422, "{}", r.body);

    let r = c.json(
        "POST",
        "/api/v1/cas/member/children",
        &member_op,
        add.clone(),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let response =
        ParentResponse::parse(r.body["parent_response"].as_str().unwrap().as_bytes()).unwrap();
    assert_eq!(response.parent_handle().as_str(), "member");
    assert_eq!(
        c.json("POST", "/api/v1/cas/member/children", &member_op, add)
            .status,
        409
    );

    // Everyone in scope sees it; the other operator does not.
    let listed = c.get("/api/v1/children", &reader);
    assert_eq!(listed.body[0]["handle"], "lirx", "{}", listed.body);
    assert_eq!(c.get("/api/v1/children", &other_op).body, json!([]));
    let shrink = json!({"resources": "AS64500"});
    assert_eq!(
        c.json("PATCH", "/api/v1/children/lirx", &other_op, shrink.clone())
            .status,
        404
    );
    assert_eq!(
        c.json("PATCH", "/api/v1/children/lirx", &member_op, shrink)
            .status,
        204
    );

    // Publishers and parents are the whole instance's: admins only.
    let publish = json!({"request": ext.publisher_request()});
    assert_eq!(
        c.json("POST", "/api/v1/publishers", &member_op, publish.clone())
            .status,
        403
    );
    let r = c.json("POST", "/api/v1/publishers", &admin, publish);
    assert_eq!(r.status, 201, "{}", r.body);
    RepositoryResponse::parse(r.body["repository_response"].as_str().unwrap().as_bytes()).unwrap();
    assert_eq!(
        c.get("/api/v1/publishers", &reader).body[0]["handle"],
        "lirx"
    );
    assert_eq!(c.get("/api/v1/publishers", &member_op).status, 403);
    // A read-only token limited to some CAs sees no repository-wide
    // publishers, and only its CAs' remote parents (none here).
    let scoped_reader = common::api::token(&cli, &["--role", "read-only", "--ca", "other"]);
    assert_eq!(c.get("/api/v1/publishers", &scoped_reader).status, 403);
    let parents = c.get("/api/v1/parents", &scoped_reader);
    assert_eq!((parents.status, parents.body.clone()), (200, json!([])));
    assert_eq!(
        c.json(
            "POST",
            "/api/v1/parents",
            &admin,
            json!({"handle": "up", "response": "<x/>"})
        )
        .status,
        422
    );

    // The audit log names the token and the request.
    let audit = c.get("/api/v1/audit?ca=member", &admin);
    let actions: Vec<&str> = audit
        .body
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert!(
        actions.contains(&"child add") && actions.contains(&"child update"),
        "{actions:?}"
    );
    assert_eq!(
        c.json("DELETE", "/api/v1/children/lirx", &member_op, json!(null))
            .status,
        204
    );
    assert_eq!(
        c.json("DELETE", "/api/v1/publishers/lirx", &admin, json!(null))
            .status,
        204
    );
    assert_eq!(c.get("/api/v1/children", &admin).body, json!([]));
    // No remote parent or repository here: removing them is a 404
    // problem, and only admins may try.
    assert_eq!(c.get("/api/v1/repository", &admin).status, 404);
    assert_eq!(c.get("/api/v1/repository", &reader).status, 404);
    assert_eq!(
        c.json("DELETE", "/api/v1/repository", &member_op, json!(null))
            .status,
        403
    );
    let gone = c.json("DELETE", "/api/v1/parents/member", &admin, json!(null));
    assert_eq!(gone.status, 404, "{}", gone.body);
    assert_eq!(
        c.json("DELETE", "/api/v1/repository", &admin, json!(null))
            .status,
        404
    );
}

#[test]
fn a_parent_with_delegated_children_keeps_what_they_hold() {
    let tmp = tempfile::tempdir().unwrap();
    let (cli, _, mut a) = setup(tmp.path());
    let mut ext = External::new("lirm", &tmp.path().join("lirm-keys"));
    let req = tmp.path().join("lirm.xml");
    std::fs::write(&req, ext.child_request()).unwrap();
    let resp = cli.ok(&[
        "child",
        "add",
        "member",
        "--request",
        req.to_str().unwrap(),
        "--resources",
        "AS64500, 192.0.2.0/25",
    ]);
    ext.parent = Some(ParentResponse::parse(resp.as_bytes()).unwrap());
    let publisher = tmp.path().join("lirm-pub.xml");
    std::fs::write(&publisher, ext.publisher_request()).unwrap();
    let out = cli.ok(&["publisher", "add", "--request", publisher.to_str().unwrap()]);
    ext.repository = Some(RepositoryResponse::parse(out.as_bytes()).unwrap());
    let key = ext.keys.generate().unwrap();
    let reply = a
        .rfc6492(
            "member",
            "lirm",
            &ext.provisioning(ext.issue_request(&key, RequestResourceLimit::new())),
        )
        .unwrap();
    issued(ext.provisioning_reply(&reply));

    let err = cli.fails(&["ca", "delete", "member"]);
    assert!(err.contains("delegated children"), "{err}");
    cli.ok(&[
        "roa",
        "remove",
        "member",
        "--asn",
        "64500",
        "--prefix",
        "192.0.2.0/24",
    ]);
    let err = cli.fails(&[
        "ca",
        "update",
        "member",
        "--resources",
        "AS64500, 192.0.2.128/25",
    ]);
    assert!(err.contains("delegated child 'lirm'"), "{err}");
    // Shrinking the child first makes room.
    cli.ok(&["child", "update", "lirm", "--resources", "AS64500"]);
    cli.ok(&[
        "ca",
        "update",
        "member",
        "--resources",
        "AS64500, 192.0.2.128/25",
    ]);
    cli.ok(&["child", "remove", "lirm"]);
    cli.ok(&["ca", "delete", "member"]);
}
