//! Every changing operation takes its actor as an argument and returns
//! the typed events it recorded; the audit log holds exactly those, in
//! the stored form it has always had.

use anchorage_ca_core::RoaPayload;
use anchorage_engine::audit::{Action, Actor, Event};
use anchorage_engine::clock::Clock;
use anchorage_engine::datadir::DataDir;
use anchorage_engine::ops::{Anchorage, InitOptions};
use anchorage_engine::tokens::Role;
use anchorage_store::{AuditEntry, AuditFilter};

fn log(a: &mut Anchorage) -> Vec<AuditEntry> {
    a.audit_log(&AuditFilter::default()).unwrap()
}

/// The newest `events.len()` entries of the log are `events`, by `actor`.
fn assert_logged(a: &mut Anchorage, actor: &Actor, events: &[Event]) {
    let all = log(a);
    assert!(all.len() >= events.len());
    let tail = &all[all.len() - events.len()..];
    for (entry, event) in tail.iter().zip(events) {
        assert_eq!(entry.actor, actor.name());
        assert_eq!(entry.request_id.as_deref(), actor.request_id());
        assert_eq!(entry.action, event.action().as_str());
        assert_eq!(entry.ca.as_deref(), event.ca());
        assert_eq!(entry.detail, event.detail());
        assert_eq!(entry.before, event.before());
        assert_eq!(entry.after, event.after());
    }
}

fn payload(asn: u32, prefix: &str) -> RoaPayload {
    RoaPayload::new(asn, prefix.parse().unwrap(), None).unwrap()
}

#[test]
fn operations_return_what_the_log_records() {
    let tmp = tempfile::tempdir().unwrap();
    let operator = Actor::named("cli:alice");
    let (mut a, events) = Anchorage::init(
        &operator,
        DataDir::new(tmp.path().join("d")),
        &InitOptions::new("rsync://127.0.0.1/repo/", "https://127.0.0.1/rrdp/"),
        Clock::System,
    )
    .unwrap();
    assert_eq!(
        events,
        [Event::Init {
            rsync_uri: "rsync://127.0.0.1/repo/".into()
        }]
    );
    assert_logged(&mut a, &operator, &events);

    let (ca, events) = a
        .create_ca(
            &operator,
            "lir",
            "AS64496, 192.0.2.0/24".parse().unwrap(),
            None,
        )
        .unwrap();
    assert_eq!(
        events,
        [Event::CaCreated {
            ca: "lir".into(),
            parent: "online".into(),
            resources: ca.resources.clone(),
        }]
    );
    assert_logged(&mut a, &operator, &events);
    // The stored wording did not change with the types.
    let last = log(&mut a).pop().unwrap();
    assert_eq!(last.action, "ca create");
    assert_eq!(
        last.detail,
        format!("parent online, resources {}", ca.resources)
    );

    // An API caller: its token and request id are recorded.
    let api = Actor::named("token:0123456789abcdef").in_request("req-1");
    let changes = a
        .apply_roa_changes(
            &api,
            "lir",
            &[
                payload(64496, "192.0.2.0/24"),
                payload(64496, "192.0.2.0/25"),
            ],
            &[],
        )
        .unwrap();
    assert_eq!(changes.added, 2);
    assert_eq!(changes.events.len(), 2);
    assert!(
        changes
            .events
            .iter()
            .all(|e| e.action() == Action::RoaAdd && e.ca() == Some("lir"))
    );
    assert_logged(&mut a, &api, &changes.events);

    // Nothing changes, nothing is recorded: a repeated addition and a dry run.
    let before = log(&mut a).len();
    let again = a
        .apply_roa_changes(&api, "lir", &[payload(64496, "192.0.2.0/24")], &[])
        .unwrap();
    assert_eq!((again.unchanged, again.events.len()), (1, 0));
    let dry = a
        .roa_batch(
            &api,
            "lir",
            &[],
            &[payload(64496, "192.0.2.0/25")],
            None,
            true,
        )
        .unwrap();
    assert_eq!((dry.removed, dry.events.len()), (1, 0));
    assert_eq!(log(&mut a).len(), before);

    let events = a
        .remove_roa(&api, "lir", payload(64496, "192.0.2.0/25"))
        .unwrap();
    assert_eq!(
        events,
        [Event::RoaRemoved {
            ca: "lir".into(),
            payload: payload(64496, "192.0.2.0/25"),
            out_of_resources: false,
        }]
    );
    assert_logged(&mut a, &api, &events);

    // A refused change records nothing and returns an error.
    let before = log(&mut a).len();
    assert!(
        a.remove_roa(&api, "lir", payload(64496, "192.0.2.0/25"))
            .is_err()
    );
    assert_eq!(log(&mut a).len(), before);

    // Deleting a CA takes the tokens scoped to it along: two events.
    let token = a
        .create_token(&operator, Role::CaOperator, &["lir".into()], "lir's")
        .unwrap();
    assert_eq!(token.info.created_by, "cli:alice");
    assert_eq!(token.events.len(), 1);
    assert_eq!(token.events[0].action(), Action::TokenCreate);
    let events = a.delete_ca(&operator, "lir").unwrap();
    assert_eq!(
        events.iter().map(Event::action).collect::<Vec<_>>(),
        [Action::TokenRevoke, Action::CaDelete]
    );
    assert_eq!(
        events[0],
        Event::TokenRevoked {
            id: token.info.id.clone(),
            ca: Some("lir".into())
        }
    );
    assert_logged(&mut a, &operator, &events);
}
