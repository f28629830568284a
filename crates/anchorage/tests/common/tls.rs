//! A test CA and an HTTPS server certificate for 127.0.0.1, with the CA
//! installed in the system trust store (as the oracles document) so that
//! rpki-client and FORT accept the RRDP server. Removed again on drop.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, SanType};

/// A server certificate and key, and the installed test CA.
pub struct TestTls {
    pub cert: PathBuf,
    pub key: PathBuf,
    installed: PathBuf,
}

fn update_ca_certificates() {
    let status = Command::new("update-ca-certificates")
        .arg("--fresh")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .expect("run update-ca-certificates (needs root and ca-certificates)");
    assert!(status.success(), "update-ca-certificates failed");
}

impl TestTls {
    /// Makes the CA and server certificate in `dir` and trusts the CA.
    pub fn install(dir: &Path, name: &str) -> TestTls {
        fs::create_dir_all(dir).unwrap();
        let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.distinguished_name
            .push(DnType::CommonName, format!("Anchorage test CA {name}"));
        let ca = CertifiedIssuer::self_signed(ca, KeyPair::generate().unwrap()).unwrap();
        let mut server = CertificateParams::new(vec!["localhost".to_string()]).unwrap();
        server
            .subject_alt_names
            .push(SanType::IpAddress("127.0.0.1".parse().unwrap()));
        let key = KeyPair::generate().unwrap();
        let cert = server.signed_by(&key, &ca).unwrap();
        let tls = TestTls {
            cert: dir.join("server.pem"),
            key: dir.join("server.key"),
            installed: PathBuf::from(format!(
                "/usr/local/share/ca-certificates/anchorage-test-{name}.crt"
            )),
        };
        fs::write(&tls.cert, cert.pem()).unwrap();
        fs::write(&tls.key, key.serialize_pem()).unwrap();
        fs::create_dir_all(tls.installed.parent().unwrap()).unwrap();
        fs::write(&tls.installed, ca.pem()).unwrap();
        update_ca_certificates();
        tls
    }
}

impl Drop for TestTls {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.installed);
        update_ca_certificates();
    }
}
