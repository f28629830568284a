//! Loading BGP announcements for the admin API's RFC 9319 checks:
//! `prefix,origin-asn` CSV, or MRT RIB dumps (RIS `bview`, RouteViews
//! `rib`; TABLE_DUMP_V2, raw or gzip) parsed with `bgpkit-parser`.
//! `anchorage bgp load` keeps the table as CSV in `DIR/bgp/table.csv`.

use std::fs;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

use anchorage_admin_api::bgp::{Adjacency, BgpTable, Net, Route};
use anyhow::{Context, bail};

use crate::datadir::DataDir;

/// The formats `bgp load` reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum BgpFormat {
    /// `prefix,origin-asn` lines.
    Csv,
    /// An MRT RIB dump (TABLE_DUMP_V2), raw or gzip-compressed.
    Mrt,
}

/// Where the loaded table lives in a data directory.
pub fn table_path(dir: &DataDir) -> PathBuf {
    dir.root().join("bgp").join("table.csv")
}

/// Reads a table from `path`; the format from `format` or the name
/// (`.csv` is CSV, anything else MRT).
pub fn read(path: &Path, format: Option<BgpFormat>) -> anyhow::Result<BgpTable> {
    let name = path.to_string_lossy().to_ascii_lowercase();
    let format = format.unwrap_or(if name.ends_with(".csv") {
        BgpFormat::Csv
    } else {
        BgpFormat::Mrt
    });
    let file = fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let mut reader = BufReader::with_capacity(1 << 20, file);
    let mut magic = [0u8; 2];
    let gz = reader.read_exact(&mut magic).is_ok() && magic == [0x1f, 0x8b];
    let reader = BufReader::with_capacity(
        1 << 20,
        fs::File::open(path).with_context(|| format!("opening {}", path.display()))?,
    );
    let input: Box<dyn Read> = if gz {
        Box::new(flate2::read::MultiGzDecoder::new(reader))
    } else if name.ends_with(".bz2") {
        bail!(
            "{}: bzip2 is not supported; decompress it first (bunzip2)",
            path.display()
        );
    } else {
        Box::new(reader)
    };
    match format {
        BgpFormat::Csv => BgpTable::from_csv(BufReader::new(input))
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display())),
        BgpFormat::Mrt => {
            read_mrt(input).with_context(|| format!("reading MRT {}", path.display()))
        }
    }
}

fn read_mrt(input: Box<dyn Read>) -> anyhow::Result<BgpTable> {
    let parser = bgpkit_parser::BgpkitParser::from_reader(input);
    let mut routes = Vec::new();
    // (customer, upstream) -> routes: the ASes next to each other in AS
    // paths (prepends removed), for the ASPA warnings.
    let mut adjacent: std::collections::HashMap<(u32, u32), u32> = Default::default();
    for elem in parser.into_elem_iter() {
        if let Some(path) = elem.as_path.as_ref().and_then(|p| p.to_u32_vec_opt(true)) {
            for pair in path.windows(2) {
                if pair[0] != pair[1] {
                    *adjacent.entry((pair[1], pair[0])).or_default() += 1;
                }
            }
        }
        let Some(origins) = elem.origin_asns else {
            continue;
        };
        let p = elem.prefix.prefix;
        let net = match p.network() {
            std::net::IpAddr::V4(a) => Net {
                v6: false,
                addr: u128::from(u32::from(a)),
                len: p.prefix_len(),
            },
            std::net::IpAddr::V6(a) => Net {
                v6: true,
                addr: u128::from(a),
                len: p.prefix_len(),
            },
        };
        // An AS_SET at the end names several possible origins.
        for origin in origins {
            routes.push(Route {
                net,
                origin: u32::from(origin),
            });
        }
    }
    if routes.is_empty() {
        bail!("no announcements found: not an MRT RIB dump?");
    }
    let adjacencies = adjacent
        .into_iter()
        .map(|((customer, upstream), routes)| Adjacency {
            customer,
            upstream,
            routes,
        })
        .collect();
    Ok(BgpTable::with_adjacencies(routes, adjacencies))
}

/// The data directory's loaded table, if one was loaded.
pub fn load(dir: &DataDir) -> anyhow::Result<Option<BgpTable>> {
    let path = table_path(dir);
    if !path.exists() {
        return Ok(None);
    }
    Ok(Some(read(&path, Some(BgpFormat::Csv))?))
}

/// Writes `table` as the data directory's table, atomically.
pub fn store(dir: &DataDir, table: &BgpTable) -> anyhow::Result<PathBuf> {
    let path = table_path(dir);
    fs::create_dir_all(path.parent().expect("has a parent"))?;
    let tmp = path.with_extension("csv.tmp");
    let mut f = std::io::BufWriter::new(fs::File::create(&tmp)?);
    table.write_csv(&mut f)?;
    let f = f.into_inner().map_err(|e| e.into_error())?;
    f.sync_all()?;
    fs::rename(&tmp, &path)?;
    Ok(path)
}
