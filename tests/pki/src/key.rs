//! Private keys for every key spec, generated once per slot and kept between processes.
//!
//! RSA key generation is slow (seconds per RSA-4096 key, about five seconds of CPU for the test
//! vault's fixtures), and the test runner starts a process per test, so keys are cached twice:
//! `TestKey::cached(spec, n)` returns the same key for the same `(spec, n)` for the life of the
//! process, and a different key for a different `n`; and the first process to generate a
//! `(spec, n)` key stores it (see [`store`]) for every later process of the same build, so a
//! test run generates each key once. Slots at and above [`RESERVED_SLOTS`] are used by the
//! chain builder for CA keys. [`TestKey::generate`] always makes a fresh key.

use crate::PkiError;
use notation_akv_protocol::KeySpec;
use rcgen::{
    KeyPair, PKCS_ECDSA_P256_SHA256, PKCS_ECDSA_P384_SHA384, PKCS_ECDSA_P521_SHA512, PublicKeyData,
};
use rcgen::{PKCS_RSA_SHA256, PKCS_RSA_SHA384, PKCS_RSA_SHA512, RsaKeySize, SignatureAlgorithm};
use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, OnceLock};

/// Slots from here up belong to the chain builder (root and intermediate keys).
pub const RESERVED_SLOTS: u32 = 1 << 16;
pub(crate) const ROOT_SLOT: u32 = RESERVED_SLOTS;
pub(crate) const INTERMEDIATE_SLOT: u32 = RESERVED_SLOTS + 1;

/// A private key of one Notary key spec, held as PKCS#8 DER.
#[derive(Clone, PartialEq, Eq)]
pub struct TestKey {
    spec: KeySpec,
    pkcs8: Arc<Vec<u8>>,
}

// Never print key material.
impl fmt::Debug for TestKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TestKey")
            .field("spec", &self.spec)
            .finish_non_exhaustive()
    }
}

type Slot = Arc<OnceLock<Result<TestKey, String>>>;

fn cache() -> &'static Mutex<HashMap<(KeySpec, u32), Slot>> {
    static CACHE: OnceLock<Mutex<HashMap<(KeySpec, u32), Slot>>> = OnceLock::new();
    CACHE.get_or_init(Default::default)
}

impl TestKey {
    /// The process-wide key for `(spec, slot)`; generated on first use.
    pub fn cached(spec: KeySpec, slot: u32) -> Result<TestKey, PkiError> {
        let cell = {
            // A poisoned map is still a valid map: the panicking thread held no half-made entry.
            let mut map = cache().lock().unwrap_or_else(|e| e.into_inner());
            map.entry((spec, slot)).or_default().clone()
        };
        // Generate outside the map lock so different slots are made in parallel.
        cell.get_or_init(|| {
            if let Some(key) = store::load(spec, slot) {
                return Ok(key);
            }
            let key = TestKey::generate(spec).map_err(|e| e.to_string())?;
            // Another process may have stored this slot meanwhile: use its key, so every
            // process of the run agrees on it.
            Ok(store::save(&key, slot).unwrap_or(key))
        })
        .clone()
        .map_err(PkiError::KeyGeneration)
    }

    /// A fresh key, not cached.
    pub fn generate(spec: KeySpec) -> Result<TestKey, PkiError> {
        let alg = signature_algorithm(spec);
        let pair = match spec {
            KeySpec::Rsa2048 => KeyPair::generate_rsa_for(alg, RsaKeySize::_2048),
            KeySpec::Rsa3072 => KeyPair::generate_rsa_for(alg, RsaKeySize::_3072),
            KeySpec::Rsa4096 => KeyPair::generate_rsa_for(alg, RsaKeySize::_4096),
            KeySpec::Ec256 | KeySpec::Ec384 | KeySpec::Ec521 => KeyPair::generate_for(alg),
        }
        .map_err(|e| PkiError::KeyGeneration(e.to_string()))?;
        Ok(TestKey {
            spec,
            pkcs8: Arc::new(pair.serialize_der()),
        })
    }

    /// Wraps an existing PKCS#8 key; the spec is trusted, not checked.
    pub fn from_pkcs8(spec: KeySpec, pkcs8_der: Vec<u8>) -> TestKey {
        TestKey {
            spec,
            pkcs8: Arc::new(pkcs8_der),
        }
    }

    pub fn spec(&self) -> KeySpec {
        self.spec
    }

    /// PKCS#8 `PrivateKeyInfo` DER (what aws-lc-rs `from_pkcs8` and rcgen accept).
    pub fn pkcs8_der(&self) -> &[u8] {
        &self.pkcs8
    }

    /// `-----BEGIN PRIVATE KEY-----` PEM.
    pub fn pkcs8_pem(&self) -> String {
        crate::pem_encode("PRIVATE KEY", &self.pkcs8)
    }

    /// SubjectPublicKeyInfo DER of the public half.
    pub fn spki_der(&self) -> Result<Vec<u8>, PkiError> {
        Ok(self.key_pair()?.subject_public_key_info())
    }

    /// The key as an rcgen signing key (signature algorithm fixed by the spec).
    pub fn key_pair(&self) -> Result<KeyPair, PkiError> {
        // rcgen takes PKCS#8 as PEM text without a pki-types dependency on our side.
        KeyPair::from_pkcs8_pem_and_sign_algo(&self.pkcs8_pem(), signature_algorithm(self.spec))
            .map_err(|e| PkiError::KeyGeneration(e.to_string()))
    }
}

/// The certificate signature algorithm paired with a key spec (hash grows with the key, as in notation).
pub(crate) fn signature_algorithm(spec: KeySpec) -> &'static SignatureAlgorithm {
    match spec {
        KeySpec::Rsa2048 => &PKCS_RSA_SHA256,
        KeySpec::Rsa3072 => &PKCS_RSA_SHA384,
        KeySpec::Rsa4096 => &PKCS_RSA_SHA512,
        KeySpec::Ec256 => &PKCS_ECDSA_P256_SHA256,
        KeySpec::Ec384 => &PKCS_ECDSA_P384_SHA384,
        KeySpec::Ec521 => &PKCS_ECDSA_P521_SHA512,
    }
}

/// The keys shared between the processes of one build: PKCS#8 DER files in an `akv-test-keys`
/// folder of the cargo target directory (beside `debug/`), so `cargo clean` removes them and
/// every build profile of the workspace shares them. Test keys only: the product never stores
/// a private key.
mod store {
    use super::TestKey;
    use notation_akv_protocol::KeySpec;
    use std::fs;
    use std::io::Write;
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
    use std::path::{Path, PathBuf};

    /// `<target>/akv-test-keys` for an executable in `<target>/<profile>` or
    /// `<target>/<profile>/deps`; `None` when the executable is elsewhere (no sharing then).
    fn dir() -> Option<PathBuf> {
        let exe = std::env::current_exe().ok()?;
        let mut profile = exe.parent()?;
        if profile.ends_with("deps") {
            profile = profile.parent()?;
        }
        let target = profile.parent()?;
        target
            .join("CACHEDIR.TAG")
            .exists()
            .then(|| target.join("akv-test-keys"))
    }

    fn file(dir: &Path, spec: KeySpec, slot: u32) -> PathBuf {
        dir.join(format!("{}-{slot}.pk8", spec.as_str()))
    }

    /// The stored key of this slot, if one was stored and still parses as a key of `spec`.
    pub(super) fn load(spec: KeySpec, slot: u32) -> Option<TestKey> {
        let der = fs::read(file(&dir()?, spec, slot)).ok()?;
        let key = TestKey::from_pkcs8(spec, der);
        key.key_pair().is_ok().then_some(key)
    }

    /// Stores `key` for this slot unless a key is stored already; returns the stored key.
    /// `None` when nothing could be stored (the caller keeps its own key).
    pub(super) fn save(key: &TestKey, slot: u32) -> Option<TestKey> {
        let dir = dir()?;
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&dir)
            .ok()?;
        let path = file(&dir, key.spec(), slot);
        let tmp = dir.join(format!(
            ".{}-{slot}.{}.tmp",
            key.spec().as_str(),
            std::process::id()
        ));
        let written = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)
            .and_then(|mut f| f.write_all(key.pkcs8_der()));
        // A hard link never replaces an existing file: the first process to store a slot wins.
        let linked = written.and_then(|()| fs::hard_link(&tmp, &path));
        let _ = fs::remove_file(&tmp);
        match linked {
            Ok(()) => Some(key.clone()),
            Err(_) => load(key.spec(), slot),
        }
    }
}
