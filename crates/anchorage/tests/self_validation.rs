//! `serve`'s self-validation after a publication fetches and validates
//! again only what changed, and tells routers only the VRPs that changed.
//! Every run here is checked against a full validation of the same
//! repository, served by a real rsync daemon: the same VRPs, rejections
//! and counts, and the changes reported since the first run add up to
//! exactly the VRPs of the full run.

mod common;

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

use anchorage_publication::RsyncTree;
use anchorage_validator::fetch::{Fetcher, RsyncFetcher};
use anchorage_validator::mirror::{Mirror, MirrorRun};
use anchorage_validator::{Live, Origin, Reuse, Update, Validation, validate};
use common::{Cli, require};

/// A full validation into its own copy.
fn full(cli: &Cli, cache: &Path, rsync: &Path) -> Validation {
    let mut fetcher = Fetcher::rsync_only(RsyncFetcher::new(cache, rsync));
    validate(&cli.tal(), &mut fetcher, true).unwrap()
}

/// The route origins routers were told of so far, kept from updates.
#[derive(Default)]
struct Router(BTreeSet<Origin>);

impl Router {
    fn apply(&mut self, u: &Update) {
        for o in &u.withdrawn {
            assert!(self.0.remove(o), "withdrawn but not announced: {o:?}");
        }
        for o in &u.announced {
            assert!(self.0.insert(*o), "announced twice: {o:?}");
        }
    }
}

/// `u` (after the router took it) agrees with the full run `f`.
fn same(u: &Update, router: &Router, f: &Validation, what: &str) {
    let r = &u.results;
    assert_eq!(r.vrps(), f.vrps, "{what}: VRPs");
    assert_eq!(r.summary.rejected, f.rejected, "{what}: rejections");
    let s = &r.summary;
    assert_eq!(
        (s.cas, s.roas, s.manifests),
        (f.cas, f.roas, f.manifests),
        "{what}: counts"
    );
    let origins: BTreeSet<Origin> = f.vrps.iter().map(|v| v.origin()).collect();
    assert_eq!(router.0, origins, "{what}: what routers were told");
}

/// A mirror of `cli`'s tree, fetching into `work/mirror` with `rsync`.
fn mirror(cli: &Cli, work: &Path, rsync: &Path) -> Mirror {
    Mirror::new(
        RsyncTree::new(cli.dir.join("rsync")),
        "rsync://127.0.0.1/repo/",
        cli.tal(),
        work.join("mirror"),
        rsync,
    )
    .unwrap()
}

fn repository(tmp: &Path) -> Cli {
    let cli = Cli::init(&tmp.join("data"));
    cli.ca_create("nir", None, "AS64500-AS65500, 10.0.0.0/8");
    cli.ca_create("lir", Some("nir"), "AS64500, 10.1.0.0/16");
    cli.ca_create("other", Some("nir"), "AS64501, 10.2.0.0/16");
    cli.ca_create("sub", Some("lir"), "AS64500, 10.1.2.0/24");
    cli.roa_add("lir", 64500, "10.1.0.0/16");
    cli.roa_add("other", 64501, "10.2.0.0/16");
    cli.roa_add("sub", 64500, "10.1.2.0/24");
    cli
}

/// Where the journals cannot say what changed: a point whose CA
/// certificate and manifest are the same bytes, and whose files are the
/// files read last time, keeps its previous result.
#[test]
fn without_journals_points_whose_files_did_not_change_are_kept() {
    require("rsync");
    let tmp = tempfile::tempdir().unwrap();
    let cli = repository(tmp.path());
    let work = tmp.path().join("work");
    let rsyncd = cli.serve(&work.join("rsyncd"));
    let wrapper = rsyncd.wrapper();
    let mut live = Live::default();
    let mut router = Router::default();
    // The live runs and the full ones fetch into their own copies.
    let mut run = |reuse: Reuse<'_>| {
        let mut fetcher =
            Fetcher::rsync_only(RsyncFetcher::new(work.join("cached"), wrapper.clone()));
        live.run(&cli.tal(), &mut fetcher, true, reuse).unwrap()
    };
    let full = || full(&cli, &work.join("full"), &wrapper);

    let first = run(Reuse::Unchanged);

    router.apply(&first);
    assert_eq!(first.results.summary.points_reused, 0);
    assert!(first.results.summary.rejected.is_empty());
    assert_eq!(first.announced.len(), 3);
    let n = first.results.summary.manifests;

    // Nothing published: every point is kept, nothing to tell routers.
    let again = run(Reuse::Unchanged);
    router.apply(&again);
    assert_eq!(again.results.summary.points_reused, n);
    assert!(again.announced.is_empty() && again.withdrawn.is_empty());

    // A ROA of one CA: only its point is validated again.
    cli.roa_add("lir", 64500, "10.1.1.0/24");
    let u = run(Reuse::Unchanged);
    router.apply(&u);
    assert_eq!(u.announced.len(), 1);
    assert_eq!(u.results.summary.points_reused, n - 1);

    // New resources for a CA: its parent's point has a new certificate
    // for it, and its own point and its child's, both unchanged, are
    // validated again under that certificate (a child's resources may be
    // inherited from it).
    cli.ok(&[
        "ca",
        "update",
        "lir",
        "--resources",
        "AS64500, 10.1.0.0/16, 10.3.0.0/16",
    ]);
    let u = run(Reuse::Unchanged);
    router.apply(&u);
    assert_eq!(u.results.summary.points_reused, n - 3);
    assert!(u.announced.is_empty() && u.withdrawn.is_empty());

    // A file of an unchanged point replaced in the served tree behind the
    // manifest's back: the copy no longer matches what the kept result
    // read, so the point is validated again and rejected, as in a full run.
    let served = fs::canonicalize(cli.tree()).unwrap();
    let roa = fs::read_dir(served.join("other"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "roa"))
        .expect("other's ROA");
    let mut bytes = fs::read(&roa).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    fs::remove_file(&roa).unwrap();
    fs::write(&roa, &bytes).unwrap();
    let u = run(Reuse::Unchanged);
    router.apply(&u);
    same(&u, &router, &full(), "a file changed behind the manifest");
    assert_eq!(u.withdrawn.len(), 1, "the tampered point's VRP is gone");
    assert!(
        u.results
            .summary
            .rejected
            .iter()
            .any(|r| r.reason.contains("RFC 9286 §6.5")),
        "{:?}",
        u.results.summary.rejected
    );
    assert_eq!(u.results.summary.points_reused, n - 1);

    // Everything again: the same result, every point validated.
    let u = run(Reuse::Never);
    router.apply(&u);
    same(&u, &router, &full(), "everything");
    assert_eq!(u.results.summary.points_reused, 0);
}

/// After each publication, the mirror fetches only the paths the tree's
/// journals name and validates only the points in their directories (and
/// those under a reissued certificate).
#[test]
fn after_a_publication_only_the_changed_paths_are_fetched_and_validated() {
    require("rsync");
    let tmp = tempfile::tempdir().unwrap();
    let cli = repository(tmp.path());
    let work = tmp.path().join("work");
    let rsyncd = cli.serve(&work.join("rsyncd"));
    let wrapper = rsyncd.wrapper();
    let mut mirror = mirror(&cli, &work, &wrapper);
    let mut router = Router::default();
    let mut run = |mirror: &mut Mirror, everything: bool, what: &str| -> MirrorRun {
        let run = mirror.run(everything).unwrap();
        // A fresh run tells every VRP: the router starts again from it.
        if run.fresh {
            router.0.clear();
        }
        router.apply(&run.update);
        same(
            &run.update,
            &router,
            &full(&cli, &work.join("full"), &wrapper),
            what,
        );
        assert_eq!(Some(run.generation), mirror.generation(), "{what}");
        run
    };

    let first = run(&mut mirror, false, "first");
    assert_eq!(first.listed, None, "a first run fetches everything");
    assert!(first.fresh);
    let n = first.update.results.summary.manifests;

    // One ROA: its point's three files (ROA, manifest, CRL), one point.
    cli.roa_add("other", 64501, "10.2.1.0/24");
    let r = run(&mut mirror, false, "one ROA added");
    assert!(!r.fresh);
    assert_eq!(r.listed, Some(3));
    assert_eq!(r.update.results.summary.points_reused, n - 1);
    assert_eq!(r.update.announced.len(), 1);

    // Nothing published: nothing fetched, every point kept.
    let r = run(&mut mirror, false, "nothing new");
    assert_eq!(r.listed, Some(0));
    assert_eq!(r.update.results.summary.points_reused, n);

    // A certificate reissued: the parent's point and the points under it.
    cli.ok(&[
        "ca",
        "update",
        "lir",
        "--resources",
        "AS64500, 10.1.0.0/16, 10.3.0.0/16",
    ]);
    let r = run(&mut mirror, false, "certificate reissued");
    assert_eq!(r.update.results.summary.points_reused, n - 3);

    // A CA with a ROA created, then deleted: its directory comes and goes
    // in the copy with the files the journals name.
    cli.ca_create("new", Some("nir"), "AS64502, 10.4.0.0/16");
    cli.roa_add("new", 64502, "10.4.0.0/16");
    let r = run(&mut mirror, false, "CA created");
    assert_eq!(r.update.results.summary.manifests, n + 1);
    let copy = work.join("mirror/rsync/127.0.0.1/repo/new");
    assert!(copy.is_dir());
    cli.ok(&["ca", "delete", "new"]);
    let r = run(&mut mirror, false, "CA deleted");
    assert_eq!(r.update.withdrawn.len(), 1);
    assert!(
        fs::read_dir(&copy).map_or(true, |mut d| d.next().is_none()),
        "the deleted CA's files are gone from the copy"
    );

    // The journals since the copy pruned (as after a full tree write,
    // which keeps none): everything is fetched again.
    cli.roa_add("sub", 64500, "10.1.2.128/25");
    fs::remove_dir_all(cli.dir.join("rsync/journal")).unwrap();
    let r = run(&mut mirror, false, "journals gone");
    assert_eq!(r.listed, None);

    // And everything on request, as serve's timer asks.
    let r = run(&mut mirror, true, "everything");
    assert_eq!(r.listed, None);
    assert_eq!(r.update.results.summary.points_reused, 0);
    assert!(!r.fresh);

    // Reset (as serve does after a run panicked): a fresh run.
    mirror.reset();
    let r = run(&mut mirror, false, "after a reset");
    assert!(r.fresh);
    assert_eq!(r.listed, None);
    assert_eq!(r.update.results.summary.points_reused, 0);
}

/// A transfer that reads a later tree than the one whose journals it
/// fetched by name is repeated with what that tree changed too, so the
/// copy never mixes two states.
#[test]
fn a_tree_published_during_the_transfer_is_fetched_too() {
    require("rsync");
    let tmp = tempfile::tempdir().unwrap();
    let cli = repository(tmp.path());
    let work = tmp.path().join("work");
    let rsyncd = cli.serve(&work.join("rsyncd"));
    // rsync that, once, publishes a change before it transfers: the tree
    // moves on between the journals being read and the transfer.
    let trigger = work.join("publish-first");
    let wrapper = work.join("rsync-publishing");
    fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\nif [ -e {t} ]; then rm {t}; {bin} --data-dir {d} roa add lir --asn 64500 --prefix 10.1.7.0/24 >/dev/null || exit 99; fi\nexec {w} \"$@\"\n",
            t = trigger.display(),
            bin = common::bin(),
            d = cli.dir.display(),
            w = rsyncd.wrapper().display(),
        ),
    )
    .unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&wrapper, fs::Permissions::from_mode(0o755)).unwrap();
    }
    let mut mirror = mirror(&cli, &work, &wrapper);
    let mut router = Router::default();
    router.apply(&mirror.run(false).unwrap().update);
    cli.roa_add("other", 64501, "10.2.1.0/24");
    fs::write(&trigger, b"").unwrap();
    let before = mirror.generation().unwrap();
    let r = mirror.run(false).unwrap();
    assert!(!trigger.exists(), "the wrapper published");
    assert_eq!(r.generation, before + 1, "the run validated the later tree");
    assert_eq!(r.listed, Some(6), "both points' files, fetched again");
    router.apply(&r.update);
    same(
        &r.update,
        &router,
        &full(&cli, &work.join("full"), &rsyncd.wrapper()),
        "tree moved during the transfer",
    );
    assert_eq!(r.update.announced.len(), 2);
}

/// RFC 9286 §4.2.1: a manifest whose number does not go up from the one
/// validated before, or whose thisUpdate goes back, is rejected, and the point's previous result stands
/// (routers are told nothing), until a manifest with a higher number
/// comes.
#[test]
fn a_manifest_number_that_does_not_go_up_keeps_the_previous_result() {
    require("rsync");
    let tmp = tempfile::tempdir().unwrap();
    let cli = repository(tmp.path());
    let f = common::faults::Faults::new(&cli, &tmp.path().join("bad"));
    let work = tmp.path().join("work");
    let rsyncd =
        anchorage_testkit::RsyncDaemon::start(&f.tree, "repo", &work.join("rsyncd")).unwrap();
    let mut live = Live::default();
    let mut run = || {
        let mut fetcher =
            Fetcher::rsync_only(RsyncFetcher::new(work.join("cached"), rsyncd.wrapper()));
        live.run(&cli.tal(), &mut fetcher, true, Reuse::Unchanged)
            .unwrap()
    };
    let first = run();
    assert!(first.results.summary.rejected.is_empty());
    let n = first.results.summary.manifests;

    // lir's point signed again with manifest number 1,000,000: it goes up.
    let this_update = anchorage_ca_core::Time::now() - chrono::TimeDelta::minutes(1);
    let resign = |number: u64, this_update| {
        f.resign_as(
            "lir",
            "nir",
            |_, _| {},
            (common::faults::current(), |crl| crl),
            (number, this_update),
        )
    };
    resign(1_000_000, this_update);
    common::faults::newer(&f.tree.join("lir"), 10);
    let up = run();
    assert!(
        up.results.summary.rejected.is_empty(),
        "{:?}",
        up.results.summary.rejected
    );
    assert_eq!(up.results.summary.points_reused, n - 1);

    // Signed again with the same number: a new manifest that does not go
    // forward. Rejected, and lir's previous result (its VRP) stands.
    resign(1_000_000, this_update);
    common::faults::newer(&f.tree.join("lir"), 20);
    let same = run();
    let rejected = &same.results.summary.rejected;
    assert_eq!(rejected.len(), 1, "{rejected:?}");
    assert!(
        rejected[0].uri.contains("/lir/")
            && rejected[0]
                .reason
                .contains("manifestNumber is not above the one validated before (RFC 9286 §4.2.1)"),
        "{rejected:?}"
    );
    assert!(same.announced.is_empty() && same.withdrawn.is_empty());
    assert_eq!(same.results.vrps(), up.results.vrps());

    // A higher number, but a thisUpdate before the one validated (RFC
    // 9286 §4.2.1: "Each RP MUST verify that this field value is greater
    // (more recent) than the most recent manifest it has validated").
    resign(1_000_001, common::faults::days(-1));
    common::faults::newer(&f.tree.join("lir"), 30);
    let earlier = run();
    let rejected = &earlier.results.summary.rejected;
    assert_eq!(rejected.len(), 1, "{rejected:?}");
    assert!(
        rejected[0]
            .reason
            .contains("thisUpdate is earlier than the one validated before (RFC 9286 §4.2.1)"),
        "{rejected:?}"
    );
    assert_eq!(earlier.results.vrps(), up.results.vrps());

    // A higher number with the same thisUpdate (two manifests signed in
    // one second, as CAs sign whole seconds): accepted.
    resign(1_000_002, this_update);
    common::faults::newer(&f.tree.join("lir"), 40);
    let equal = run();
    assert!(
        equal.results.summary.rejected.is_empty(),
        "{:?}",
        equal.results.summary.rejected
    );
    assert_eq!(equal.results.summary.points_reused, n - 1);
}
