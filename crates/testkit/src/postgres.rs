//! A real PostgreSQL server of the tests' own: `initdb` and `pg_ctl` from
//! Debian's `postgresql` package, in a temporary directory, on a loopback
//! port, stopped when dropped.

use std::fs;
use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The role the tests connect as (trust authentication on loopback).
pub const ROLE: &str = "anchorage";

/// A running PostgreSQL cluster.
#[derive(Debug)]
pub struct PostgresServer {
    bin: PathBuf,
    data: PathBuf,
    port: u16,
    /// Set when running as root: the server runs as this user.
    user: Option<String>,
    running: bool,
    /// Whether the server offers TLS (its certificate in the data directory).
    tls: bool,
}

/// Where the server programs are: Debian's `/usr/lib/postgresql/N/bin`
/// (the newest N), else the directory of `initdb` on `PATH`.
pub fn bin_dir() -> Option<PathBuf> {
    let mut versions: Vec<(u32, PathBuf)> = fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let v = e.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").is_file().then_some((v, bin))
        })
        .collect();
    versions.sort();
    versions
        .pop()
        .map(|(_, bin)| bin)
        .or_else(|| crate::find_program("initdb").and_then(|p| Some(p.parent()?.to_path_buf())))
}

fn checked(what: &str, out: io::Result<Output>) -> io::Result<Output> {
    let out = out?;
    if !out.status.success() {
        return Err(io::Error::other(format!(
            "{what} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )));
    }
    Ok(out)
}

impl PostgresServer {
    /// Initialises a cluster under `workdir` and starts it on a free
    /// loopback port. As root (PostgreSQL refuses to run as root) the
    /// server runs as the `postgres` user, which the package creates.
    pub fn start(workdir: &Path) -> io::Result<PostgresServer> {
        let bin = bin_dir().ok_or_else(|| {
            io::Error::other("PostgreSQL is not installed (apt-get install postgresql)")
        })?;
        let user = crate::is_root().then(|| "postgres".to_string());
        let root = workdir.join("postgres");
        fs::create_dir_all(&root)?;
        if user.is_some() {
            // The server's user must reach its directory.
            fs::set_permissions(workdir, fs::Permissions::from_mode(0o711))?;
            let (uid, gid) = crate::user_ids("postgres").ok_or_else(|| {
                io::Error::other("no postgres user (the postgresql package makes it)")
            })?;
            std::os::unix::fs::chown(&root, Some(uid), Some(gid))?;
        }
        let data = root.join("data");
        let mut server = PostgresServer {
            bin,
            data,
            port: crate::free_port()?,
            user,
            running: false,
            tls: false,
        };
        let initdb = server.bin.join("initdb");
        checked(
            "initdb",
            server
                .command(&initdb)
                .arg("-D")
                .arg(&server.data)
                .args(["-A", "trust", "-U", ROLE, "-E", "UTF8", "--locale=C"])
                .output(),
        )?;
        server.start_again()?;
        Ok(server)
    }

    fn command(&self, program: &Path) -> Command {
        match &self.user {
            Some(user) => {
                let mut c = Command::new("runuser");
                c.args(["-u", user, "--"]).arg(program);
                c
            }
            None => Command::new(program),
        }
    }

    /// Starts the server (again, after [`Self::stop`]) on the same port.
    pub fn start_again(&mut self) -> io::Result<()> {
        let pg_ctl = self.bin.join("pg_ctl");
        let mut options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1",
            self.port,
            self.data.display()
        );
        if self.tls {
            options.push_str(" -c ssl=on -c ssl_cert_file=server.crt -c ssl_key_file=server.key");
        }
        checked(
            "pg_ctl start",
            self.command(&pg_ctl)
                .arg("-D")
                .arg(&self.data)
                .args(["-o", &options, "-w", "-l"])
                .arg(self.data.join("server.log"))
                .arg("start")
                .output(),
        )?;
        self.running = true;
        Ok(())
    }

    /// Restarts the server offering TLS with the certificate chain and key
    /// given (PEM).
    pub fn enable_tls(&mut self, cert_pem: &str, key_pem: &str) -> io::Result<()> {
        for (name, text) in [("server.crt", cert_pem), ("server.key", key_pem)] {
            let path = self.data.join(name);
            fs::write(&path, text)?;
            fs::set_permissions(&path, fs::Permissions::from_mode(0o600))?;
            if self.user.is_some() {
                let (uid, gid) = crate::user_ids("postgres")
                    .ok_or_else(|| io::Error::other("no postgres user"))?;
                std::os::unix::fs::chown(&path, Some(uid), Some(gid))?;
            }
        }
        self.stop()?;
        self.tls = true;
        self.start_again()
    }

    /// Stops the server at once (`pg_ctl stop -m immediate`: as if it
    /// crashed; it recovers from its WAL when started again).
    pub fn stop(&mut self) -> io::Result<()> {
        let pg_ctl = self.bin.join("pg_ctl");
        checked(
            "pg_ctl stop",
            self.command(&pg_ctl)
                .arg("-D")
                .arg(&self.data)
                .args(["-m", "immediate", "-w", "stop"])
                .output(),
        )?;
        self.running = false;
        Ok(())
    }

    /// Stops the server (and removes `dir`) once this process has
    /// exited, for a server kept in a static that is never dropped: a
    /// detached shell waits for the process to end.
    pub fn stop_after_this_process(&self, dir: &Path) -> io::Result<()> {
        let pg_ctl = self.bin.join("pg_ctl");
        let stop = match &self.user {
            Some(user) => format!("runuser -u {user} -- {}", pg_ctl.display()),
            None => pg_ctl.display().to_string(),
        };
        let script = format!(
            "while kill -0 {pid} 2>/dev/null; do sleep 1; done; \
             {stop} -D '{data}' -m immediate -w stop >/dev/null 2>&1; rm -rf '{dir}'",
            pid = std::process::id(),
            data = self.data.display(),
            dir = dir.display(),
        );
        Command::new("setsid")
            .args(["sh", "-c", &script])
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()?;
        Ok(())
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The connection URL of database `db`.
    pub fn url(&self, db: &str) -> String {
        format!("postgres://{ROLE}@127.0.0.1:{}/{db}", self.port)
    }

    /// Creates an empty database `name` and returns its URL.
    pub fn create_database(&self, name: &str) -> io::Result<String> {
        let createdb = self.bin.join("createdb");
        checked(
            "createdb",
            Command::new(createdb)
                .args(["-h", "127.0.0.1", "-p", &self.port.to_string()])
                .args(["-U", ROLE, name])
                .output(),
        )?;
        Ok(self.url(name))
    }

    /// Runs SQL in database `db` with `psql`, returning its unaligned output.
    pub fn psql(&self, db: &str, sql: &str) -> io::Result<String> {
        let psql = self.bin.join("psql");
        let out = checked(
            "psql",
            Command::new(psql)
                .args(["-h", "127.0.0.1", "-p", &self.port.to_string()])
                .args(["-U", ROLE, "-d", db, "-v", "ON_ERROR_STOP=1", "-Atqc", sql])
                .output(),
        )?;
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    }
}

impl Drop for PostgresServer {
    fn drop(&mut self) {
        if self.running {
            let _ = self.stop();
        }
    }
}
