//! The standard fixture set: one call fills a vault with every case the plugins' tests need.

use crate::store::{CertificateOptions, CertificateVersion, SecretFormat};
use crate::{TestVault, VaultError};
use akv_test_pki::{Chain, ChainBuilder, KeySpec, TestKey, Validity};
use std::collections::BTreeMap;

/// Names of the fixture certificates (each also names its key and secret).
pub mod names {
    use akv_test_pki::KeySpec;

    /// `ss-rsa-2048` … `ss-ec-521`: compliant self-signed leaf, PEM secret.
    pub fn self_signed(spec: KeySpec) -> String {
        format!("ss-{}", spec.as_str().to_ascii_lowercase())
    }

    /// `ca-rsa-2048` … `ca-ec-521`: compliant root → intermediate → leaf, PEM secret (leaf first).
    pub fn ca_issued(spec: KeySpec) -> String {
        format!("ca-{}", spec.as_str().to_ascii_lowercase())
    }

    /// EC-256 CA-issued chain served as a PKCS#12 secret (no private key).
    pub const PKCS12: &str = "ca-ec-256-pfx";
    /// EC-256 CA-issued chain served as a PKCS#12 secret that includes the private key.
    pub const PKCS12_EXPORTABLE: &str = "ca-ec-256-pfx-exportable";
    /// EC-256 CA-issued chain served as PEM that includes a `PRIVATE KEY` block.
    pub const PEM_EXPORTABLE: &str = "ca-ec-256-pem-exportable";
    /// EC-256 CA-issued leaf whose secret holds only the leaf (chain never merged).
    pub const LEAF_ONLY: &str = "ca-ec-256-leaf-only";
    /// RSA-2048 self-signed with AKV's default policy: serverAuth+clientAuth EKU, keyEncipherment.
    pub const AKV_DEFAULT_POLICY: &str = "akv-default-policy";
    /// EC-256 CA-issued chain whose leaf expired yesterday.
    pub const EXPIRED: &str = "expired";
    /// EC-256 certificate bound to a key that is not the certificate's key (signatures won't verify).
    pub const WRONG_KEY: &str = "wrong-key";
    /// EC-256 self-signed, two versions; the latest is the second.
    pub const ROTATED: &str = "rotated";
    /// EC-256 self-signed whose key version is disabled (sign → 403).
    pub const DISABLED_KEY: &str = "disabled-key";
}

/// A fixture certificate: its ids and the chain it was made from.
#[derive(Clone, Debug)]
pub struct Fixture {
    pub version: CertificateVersion,
    pub chain: Chain,
}

/// Every fixture by name (see [`names`]); versioned ids are the latest version's.
#[derive(Clone, Debug, Default)]
pub struct Fixtures {
    pub certificates: BTreeMap<String, Fixture>,
    /// Older versions of [`names::ROTATED`], oldest first.
    pub rotated_history: Vec<Fixture>,
}

impl Fixtures {
    /// The fixture called `name`; panics with the known names if it is missing (test helper).
    pub fn get(&self, name: &str) -> &Fixture {
        self.certificates.get(name).unwrap_or_else(|| {
            panic!(
                "no fixture {name}; known: {:?}",
                self.certificates.keys().collect::<Vec<_>>()
            )
        })
    }
}

impl TestVault {
    /// Adds the standard fixtures (see [`names`]). Takes about a second: keys are cached.
    pub fn load_fixtures(&self) -> Result<Fixtures, VaultError> {
        let mut f = Fixtures::default();
        let pem = CertificateOptions::default();
        for spec in KeySpec::ALL {
            self.put(
                &mut f,
                &names::self_signed(spec),
                ChainBuilder::self_signed(spec).build()?,
                pem.clone(),
            )?;
            self.put(
                &mut f,
                &names::ca_issued(spec),
                ChainBuilder::new(spec).build()?,
                pem.clone(),
            )?;
        }
        let ec = || ChainBuilder::new(KeySpec::Ec256);
        let pfx = CertificateOptions {
            secret_format: SecretFormat::Pkcs12,
            ..Default::default()
        };
        self.put(&mut f, names::PKCS12, ec().build()?, pfx.clone())?;
        self.put(
            &mut f,
            names::PKCS12_EXPORTABLE,
            ec().build()?,
            CertificateOptions {
                include_private_key: true,
                ..pfx
            },
        )?;
        self.put(
            &mut f,
            names::PEM_EXPORTABLE,
            ec().build()?,
            CertificateOptions {
                include_private_key: true,
                ..Default::default()
            },
        )?;
        self.put(
            &mut f,
            names::LEAF_ONLY,
            ec().build()?,
            CertificateOptions {
                leaf_only: true,
                ..Default::default()
            },
        )?;
        self.put(
            &mut f,
            names::AKV_DEFAULT_POLICY,
            ChainBuilder::self_signed(KeySpec::Rsa2048)
                .akv_default_policy()
                .common_name("akv-test akv-default-policy")
                .build()?,
            pem.clone(),
        )?;
        self.put(
            &mut f,
            names::EXPIRED,
            ec().validity(Validity::Expired).build()?,
            pem.clone(),
        )?;
        self.put(
            &mut f,
            names::WRONG_KEY,
            ec().build()?,
            CertificateOptions {
                signing_key: Some(TestKey::cached(KeySpec::Ec256, 7)?),
                ..Default::default()
            },
        )?;
        let ss_ec = |slot| {
            ChainBuilder::self_signed(KeySpec::Ec256)
                .key_slot(slot)
                .build()
        };
        self.put(&mut f, names::ROTATED, ss_ec(2)?, pem.clone())?;
        let first = f.certificates.get(names::ROTATED).cloned();
        self.put(&mut f, names::ROTATED, ss_ec(3)?, pem.clone())?;
        f.rotated_history.extend(first);
        self.put(&mut f, names::DISABLED_KEY, ss_ec(4)?, pem)?;
        let disabled = &f.get(names::DISABLED_KEY).version;
        self.set_key_enabled(&disabled.name, &disabled.version, false)?;
        Ok(f)
    }

    fn put(
        &self,
        f: &mut Fixtures,
        name: &str,
        chain: Chain,
        options: CertificateOptions,
    ) -> Result<(), VaultError> {
        let version = self.add_certificate(name, &chain, options)?;
        f.certificates
            .insert(name.into(), Fixture { version, chain });
        Ok(())
    }
}
