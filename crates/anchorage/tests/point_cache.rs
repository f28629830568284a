//! `serve`'s self-validation after a publication validates again only the
//! publication points that changed: a point whose CA certificate and
//! manifest are the same bytes, and whose files are the files read last
//! time, keeps its previous result. Every run here is checked against a
//! full validation of the same repository, served by a real rsync daemon.

mod common;

use std::fs;
use std::path::Path;

use anchorage_validator::fetch::{Fetcher, RsyncFetcher};
use anchorage_validator::{PointCache, Validation, validate_with};
use common::{Cli, require};

fn run(tal: &Path, cache_dir: &Path, rsync: &Path, points: Option<&PointCache>) -> Validation {
    let mut fetcher = Fetcher::rsync_only(RsyncFetcher::new(cache_dir, rsync));
    validate_with(tal, &mut fetcher, true, points).unwrap()
}

#[test]
fn self_validation_revalidates_only_the_points_that_changed() {
    require("rsync");
    let tmp = tempfile::tempdir().unwrap();
    let cli = Cli::init(&tmp.path().join("data"));
    cli.ca_create("nir", None, "AS64500-AS65500, 10.0.0.0/8");
    cli.ca_create("lir", Some("nir"), "AS64500, 10.1.0.0/16");
    cli.ca_create("other", Some("nir"), "AS64501, 10.2.0.0/16");
    cli.ca_create("sub", Some("lir"), "AS64500, 10.1.2.0/24");
    cli.roa_add("lir", 64500, "10.1.0.0/16");
    cli.roa_add("other", 64501, "10.2.0.0/16");
    cli.roa_add("sub", 64500, "10.1.2.0/24");
    let work = tmp.path().join("work");
    let rsyncd = cli.serve(&work.join("rsyncd"));
    let wrapper = rsyncd.wrapper();
    let points = PointCache::default();
    // The cached runs and the full ones fetch into their own copies.
    let cached =
        |points: &PointCache| run(&cli.tal(), &work.join("cached"), &wrapper, Some(points));
    let full = || run(&cli.tal(), &work.join("full"), &wrapper, None);
    let same = |a: &Validation, b: &Validation, what: &str| {
        assert_eq!(a.vrps, b.vrps, "{what}: VRPs");
        assert_eq!(a.rejected, b.rejected, "{what}: rejections");
        assert_eq!(
            (a.cas, a.roas, a.manifests),
            (b.cas, b.roas, b.manifests),
            "{what}: counts"
        );
    };

    let first = cached(&points);
    assert_eq!(first.points_reused, 0);
    assert!(first.rejected.is_empty(), "{:?}", first.rejected);
    assert_eq!(first.vrps.len(), 3);
    let n = first.manifests;
    assert_eq!(points.len(), n, "every point's result is kept");

    // Nothing published: every point is taken from the cache.
    let again = cached(&points);
    same(&again, &first, "unchanged");
    assert_eq!(again.points_reused, n);

    // A ROA of one CA: only its point is validated again.
    cli.roa_add("lir", 64500, "10.1.1.0/24");
    let v = cached(&points);
    same(&v, &full(), "one ROA added");
    assert_eq!(v.vrps.len(), 4);
    assert_eq!(v.points_reused, n - 1);

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
    let v = cached(&points);
    same(&v, &full(), "certificate reissued");
    assert_eq!(v.points_reused, n - 3);

    // A file of an unchanged point replaced in the served tree behind the
    // manifest's back: the copy no longer matches what the cached result
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
    let v = cached(&points);
    let f = full();
    same(&v, &f, "a file changed behind the manifest");
    assert_eq!(v.vrps.len(), 3, "the tampered point's VRP is gone");
    assert!(
        v.rejected
            .iter()
            .any(|r| r.reason.contains("RFC 9286 §6.5")),
        "{:?}",
        v.rejected
    );
    assert_eq!(v.points_reused, n - 1);
}
