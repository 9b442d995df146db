//! Ed25519 keys for the audit log: generated, written and read as PEM
//! (PKCS#8 for the private key, SPKI for the public one), and named by
//! their key id, the SHA-256 of the public key's SPKI DER in hex.
//!
//! The private key never prints: [`AuditKey`]'s `Debug` shows its key
//! id, errors name the file or variable it came from, and the bytes are
//! zeroed when dropped (`ed25519-dalek`'s `zeroize`).

use std::path::{Path, PathBuf};

use ed25519_dalek::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey};
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use sha2::{Digest, Sha256};

use super::AuditError;

/// File names `tfdrift keys generate` writes.
pub const PRIVATE_FILE: &str = "tfdrift-audit.key";
pub const PUBLIC_FILE: &str = "tfdrift-audit.pub";

/// The key id of a public key: hex SHA-256 of its SPKI DER.
pub fn keyid(key: &VerifyingKey) -> String {
    let der = key
        .to_public_key_der()
        .map(|d| d.as_bytes().to_vec())
        // An Ed25519 key always encodes: 44 bytes of fixed shape.
        .unwrap_or_else(|_| key.as_bytes().to_vec());
    hex::encode(Sha256::digest(der))
}

/// A PEM file's text; the error names the file.
fn read_pem(path: &Path) -> Result<String, AuditError> {
    std::fs::read_to_string(path).map_err(|e| AuditError::Key {
        from: path.display().to_string(),
        message: format!("cannot read it: {e}"),
    })
}

/// A signing key, with its public half's id.
pub struct AuditKey {
    signing: SigningKey,
    pub keyid: String,
}

impl std::fmt::Debug for AuditKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "AuditKey({})", self.keyid)
    }
}

impl AuditKey {
    /// A new key from the operating system's randomness.
    pub fn generate() -> Result<Self, AuditError> {
        let mut seed = [0u8; 32];
        getrandom::getrandom(&mut seed).map_err(|e| AuditError::Key {
            from: "the operating system's random source".into(),
            message: e.to_string(),
        })?;
        let signing = SigningKey::from_bytes(&seed);
        seed.fill(0);
        Ok(Self::from_signing(signing))
    }

    fn from_signing(signing: SigningKey) -> Self {
        let keyid = keyid(&signing.verifying_key());
        Self { signing, keyid }
    }

    /// A PKCS#8 PEM private key; `from` names where it came from.
    pub fn from_pem(pem: &str, from: &str) -> Result<Self, AuditError> {
        SigningKey::from_pkcs8_pem(pem.trim())
            .map(Self::from_signing)
            // The parser's message never holds the key's bytes.
            .map_err(|e| AuditError::Key {
                from: from.into(),
                message: format!("not a PKCS#8 PEM Ed25519 private key ({e})"),
            })
    }

    pub fn load_file(path: &Path) -> Result<Self, AuditError> {
        Self::from_pem(&read_pem(path)?, &path.display().to_string())
    }

    /// The PEM held by the environment variable `var`.
    pub fn load_env(var: &str) -> Result<Self, AuditError> {
        let text = std::env::var(var)
            .ok()
            .filter(|v| !v.trim().is_empty())
            .ok_or_else(|| AuditError::Key {
                from: format!("${var}"),
                message: "the variable is not set or empty".into(),
            })?;
        Self::from_pem(&text, &format!("${var}"))
    }

    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        self.signing.sign(message).to_bytes().to_vec()
    }

    pub fn public(&self) -> PublicKey {
        PublicKey::from_verifying(self.signing.verifying_key())
    }

    /// Writes the pair into `dir` (created if need be): the private key
    /// readable by its owner only, created so (never widened after), and
    /// neither file overwritten.
    pub fn write_pair(&self, dir: &Path) -> Result<(PathBuf, PathBuf), AuditError> {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        let io = |path: &Path, e: std::io::Error| AuditError::Io {
            path: path.display().to_string(),
            source: e,
        };
        std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
        let (private, public) = (dir.join(PRIVATE_FILE), dir.join(PUBLIC_FILE));
        for p in [&private, &public] {
            if p.exists() {
                return Err(AuditError::Exists(p.display().to_string()));
            }
        }
        // PKCS#8 v1 (the private key alone): what OpenSSL, Python's
        // cryptography and Go all read; v2 with the public key inside is
        // refused by some.
        let pem = ed25519_dalek::pkcs8::KeypairBytes {
            secret_key: self.signing.to_bytes(),
            public_key: None,
        }
        .to_pkcs8_pem(Default::default())
        .map_err(|e| AuditError::Key {
            from: "the new key".into(),
            message: e.to_string(),
        })?;
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&private)
            .map_err(|e| io(&private, e))?;
        f.write_all(pem.as_bytes())
            .and_then(|_| f.sync_all())
            .map_err(|e| io(&private, e))?;
        std::fs::write(&public, self.public().pem).map_err(|e| io(&public, e))?;
        Ok((private, public))
    }
}

/// A public key that signatures are checked against.
#[derive(Debug, Clone)]
pub struct PublicKey {
    key: VerifyingKey,
    pub keyid: String,
    /// SPKI PEM.
    pub pem: String,
}

impl PublicKey {
    fn from_verifying(key: VerifyingKey) -> Self {
        let pem = key
            .to_public_key_pem(Default::default())
            .unwrap_or_default();
        Self {
            keyid: keyid(&key),
            key,
            pem,
        }
    }

    pub fn from_pem(pem: &str, from: &str) -> Result<Self, AuditError> {
        VerifyingKey::from_public_key_pem(pem.trim())
            .map(Self::from_verifying)
            .map_err(|e| AuditError::Key {
                from: from.into(),
                message: format!("not an SPKI PEM Ed25519 public key ({e})"),
            })
    }

    pub fn load_file(path: &Path) -> Result<Self, AuditError> {
        Self::from_pem(&read_pem(path)?, &path.display().to_string())
    }

    /// The raw 32-byte key, hex (securesystemslib's `keyval.public`).
    pub fn raw_hex(&self) -> String {
        hex::encode(self.key.as_bytes())
    }

    pub fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        Signature::from_slice(signature)
            .map(|s| self.key.verify(message, &s).is_ok())
            .unwrap_or(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pair_round_trips_through_pem_and_signs() {
        let dir = tempfile::tempdir().unwrap();
        let key = AuditKey::generate().unwrap();
        let (private, public) = key.write_pair(dir.path()).unwrap();
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&private).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let again = AuditKey::load_file(&private).unwrap();
        let public = PublicKey::load_file(&public).unwrap();
        assert_eq!(again.keyid, key.keyid);
        assert_eq!(public.keyid, key.keyid);
        assert_eq!(key.keyid.len(), 64);
        let sig = again.sign(b"hello");
        assert!(public.verify(b"hello", &sig));
        assert!(!public.verify(b"hellO", &sig));
        assert!(!format!("{key:?}").contains("PRIVATE"));
        // Never overwritten.
        assert!(matches!(
            AuditKey::generate().unwrap().write_pair(dir.path()),
            Err(AuditError::Exists(_))
        ));
    }

    #[test]
    fn a_key_from_the_environment() {
        let dir = tempfile::tempdir().unwrap();
        let key = AuditKey::generate().unwrap();
        let (private, _) = key.write_pair(dir.path()).unwrap();
        // SAFETY: this test's own variable names.
        unsafe {
            std::env::set_var(
                "TFDRIFT_AUDIT_TEST_KEY",
                std::fs::read_to_string(&private).unwrap(),
            );
            std::env::set_var("TFDRIFT_AUDIT_TEST_BAD", "not a key");
        }
        assert_eq!(
            AuditKey::load_env("TFDRIFT_AUDIT_TEST_KEY").unwrap().keyid,
            key.keyid
        );
        let e = AuditKey::load_env("TFDRIFT_AUDIT_TEST_BAD")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("$TFDRIFT_AUDIT_TEST_BAD") && !e.contains("not a key"),
            "{e}"
        );
        let e = AuditKey::load_env("TFDRIFT_AUDIT_TEST_UNSET")
            .unwrap_err()
            .to_string();
        assert!(e.contains("not set"), "{e}");
    }

    #[test]
    fn a_malformed_key_names_its_file_and_not_its_content() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.pem");
        std::fs::write(
            &path,
            "-----BEGIN PRIVATE KEY-----\nnot base64 at all\n-----END PRIVATE KEY-----\n",
        )
        .unwrap();
        let e = AuditKey::load_file(&path).unwrap_err().to_string();
        assert!(e.contains("bad.pem") && e.contains("not a PKCS#8"), "{e}");
        let e = AuditKey::load_file(&dir.path().join("missing.pem"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("missing.pem") && e.contains("cannot read"),
            "{e}"
        );
        let e = PublicKey::load_file(&path).unwrap_err().to_string();
        assert!(e.contains("not an SPKI PEM"), "{e}");
    }
}
