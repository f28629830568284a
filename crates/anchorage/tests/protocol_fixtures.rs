//! RFC 8183, RFC 6492 and RFC 8181 messages captured from a run of the
//! protocols between Anchorage and an external CA (`tests/fixtures/
//! delegation/`), parsed and verified with the `rpki` crate — the library
//! Krill and other CAs decode them with. Regenerate with
//! `cargo test -p anchorage --test protocol_fixtures -- --ignored capture`.

mod common;

use std::path::{Path, PathBuf};

use common::external::{External, setup};
use rpki::ca::idexchange::{
    ChildRequest, ParentResponse, PublisherRequest, RepositoryResponse, validate_idcert_at,
};
use rpki::ca::provisioning::{Payload, ProvisioningCms, RequestResourceLimit};
use rpki::ca::publication::{self, PublicationCms, Query, Reply};
use rpki::repository::x509::Time;

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/delegation")
}

fn read(name: &str) -> Vec<u8> {
    std::fs::read(dir().join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[test]
#[ignore = "writes the fixtures; run by hand"]
fn capture() {
    let tmp = tempfile::tempdir().unwrap();
    let (cli, ext, mut a) = setup(tmp.path());
    let out = dir();
    std::fs::create_dir_all(&out).unwrap();
    let save = |name: &str, bytes: &[u8]| std::fs::write(out.join(name), bytes).unwrap();
    save("child_request.xml", ext.child_request().as_bytes());
    save("publisher_request.xml", ext.publisher_request().as_bytes());
    save(
        "parent_response.xml",
        ext.parent.as_ref().unwrap().to_xml_string().as_bytes(),
    );
    save(
        "repository_response.xml",
        ext.repository.as_ref().unwrap().to_xml_string().as_bytes(),
    );
    save(
        "captured_at.txt",
        Time::now().timestamp().to_string().as_bytes(),
    );

    let mut exchange = |name: &str, msg: bytes::Bytes, six: bool| {
        save(&format!("{name}.der"), &msg);
        let reply = if six {
            a.rfc6492("online", "lirx", &msg).unwrap()
        } else {
            a.rfc8181("lirx", &msg).unwrap()
        };
        save(&format!("{name}_reply.der"), &reply);
        reply
    };
    exchange("rfc6492_list", ext.provisioning(Payload::List), true);
    let key = ext.keys.generate().unwrap();
    let reply = exchange(
        "rfc6492_issue",
        ext.provisioning(ext.issue_request(&key, RequestResourceLimit::new())),
        true,
    );
    let Payload::IssueResponse(issued) = ext.provisioning_reply(&reply) else {
        panic!("not issued")
    };
    let (uri, _, cert) = issued.into_issued().unpack();
    let roa =
        anchorage_ca_core::RoaPayload::new(65000, "10.0.0.0/24".parse().unwrap(), None).unwrap();
    let delta = ext.build_point(&key, &cert, &uri, &[roa]);
    exchange(
        "rfc8181_delta",
        ext.publication(publication::Message::delta(delta)),
        false,
    );
    exchange(
        "rfc8181_list",
        ext.publication(publication::Message::list_query()),
        false,
    );
    exchange(
        "rfc8181_error",
        ext.publication(publication::Message::delta(External::withdraw(
            "rsync://127.0.0.1/repo/lirx/missing.roa",
            b"x",
        ))),
        false,
    );
    exchange(
        "rfc6492_revoke",
        ext.provisioning(ext.revoke_request(&key)),
        true,
    );
    exchange(
        "rfc6492_error",
        ext.provisioning(ext.revoke_request(&key)),
        true,
    );
    drop(cli);
}

#[test]
fn rpki_crate_parses_captured_messages() {
    let when = Time::new(
        chrono::DateTime::from_timestamp(
            String::from_utf8(read("captured_at.txt"))
                .unwrap()
                .trim()
                .parse()
                .unwrap(),
            0,
        )
        .unwrap(),
    );
    // RFC 8183: both requests and both responses, identities valid then.
    let child = ChildRequest::parse(read("child_request.xml").as_slice()).unwrap();
    let child_id = validate_idcert_at(child.id_cert(), when).unwrap();
    let publisher = PublisherRequest::parse(read("publisher_request.xml").as_slice()).unwrap();
    assert_eq!(publisher.publisher_handle().as_str(), "lirx");
    let parent = ParentResponse::parse(read("parent_response.xml").as_slice()).unwrap();
    let parent_id = parent.validate_at(when).unwrap();
    assert_eq!(
        parent.service_uri().as_str(),
        "https://127.0.0.1/rfc6492/online/lirx"
    );
    let repo = RepositoryResponse::parse(read("repository_response.xml").as_slice()).unwrap();
    assert_eq!(repo.sia_base().as_str(), "rsync://127.0.0.1/repo/lirx/");
    let when = when + chrono::TimeDelta::seconds(30);

    // RFC 6492: the child's queries and the parent's signed replies.
    let prov = |name: &str, signer: &rpki::crypto::PublicKey| {
        let cms = ProvisioningCms::decode(&read(name)).unwrap();
        cms.validate_at(signer, when)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        cms.into_message().into_payload()
    };
    let (child_key, parent_key) = (child_id.public_key(), parent_id.public_key());
    assert!(matches!(prov("rfc6492_list.der", child_key), Payload::List));
    match prov("rfc6492_list_reply.der", parent_key) {
        Payload::ListResponse(l) => assert_eq!(l.classes().len(), 1),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        prov("rfc6492_issue.der", child_key),
        Payload::Issue(_)
    ));
    assert!(matches!(
        prov("rfc6492_issue_reply.der", parent_key),
        Payload::IssueResponse(_)
    ));
    assert!(matches!(
        prov("rfc6492_revoke.der", child_key),
        Payload::Revoke(_)
    ));
    assert!(matches!(
        prov("rfc6492_revoke_reply.der", parent_key),
        Payload::RevokeResponse(_)
    ));
    assert!(matches!(
        prov("rfc6492_error.der", child_key),
        Payload::Revoke(_)
    ));
    match prov("rfc6492_error_reply.der", parent_key) {
        Payload::ErrorResponse(e) => assert_eq!(e.status(), 1302),
        other => panic!("{other:?}"),
    }

    // RFC 8181: the publisher's queries and the server's signed replies.
    let publ = |name: &str, signer: &rpki::crypto::PublicKey| {
        let cms = PublicationCms::decode(&read(name)).unwrap();
        cms.validate_at(signer, when)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        cms.into_message()
    };
    match publ("rfc8181_delta.der", child_key).as_query().unwrap() {
        Query::Delta(d) => assert_eq!(d.len(), 3),
        other => panic!("{other:?}"),
    }
    let repo_key = validate_idcert_at(repo.id_cert(), when)
        .unwrap()
        .public_key()
        .clone();
    assert_eq!(
        publ("rfc8181_delta_reply.der", &repo_key)
            .as_reply()
            .unwrap(),
        Reply::Success
    );
    assert!(matches!(
        publ("rfc8181_list.der", child_key).as_query().unwrap(),
        Query::List
    ));
    match publ("rfc8181_list_reply.der", &repo_key)
        .as_reply()
        .unwrap()
    {
        Reply::List(l) => assert_eq!(l.elements().len(), 3),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        publ("rfc8181_error_reply.der", &repo_key)
            .as_reply()
            .unwrap(),
        Reply::ErrorReply(_)
    ));
}
