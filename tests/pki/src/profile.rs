//! What a leaf looks like: subject, EKU, key usage and validity, named after the cases the
//! Notary Project rules (plugin-protocol.md §4.4) and AKV's default policy produce.

use time::{Duration, OffsetDateTime};

/// A subject DN. The default has C, ST and O, which notation's `x509.subject:` identities require.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Subject {
    pub country: String,
    pub state: String,
    pub locality: Option<String>,
    pub organization: String,
    pub common_name: String,
}

impl Subject {
    /// `C=US, ST=WA, L=Seattle, O=notation-akv test, CN=<common_name>`.
    pub fn new(common_name: impl Into<String>) -> Subject {
        Subject {
            country: "US".into(),
            state: "WA".into(),
            locality: Some("Seattle".into()),
            organization: "notation-akv test".into(),
            common_name: common_name.into(),
        }
    }

    /// The DN as notation writes it in a trust policy (`x509.subject:` + this).
    pub fn to_dn_string(&self) -> String {
        let mut parts = vec![format!("C={}", self.country), format!("ST={}", self.state)];
        if let Some(l) = &self.locality {
            parts.push(format!("L={l}"));
        }
        parts.push(format!("O={}", self.organization));
        parts.push(format!("CN={}", self.common_name));
        parts.join(", ")
    }

    pub(crate) fn to_rcgen(&self) -> rcgen::DistinguishedName {
        use rcgen::DnType;
        let mut dn = rcgen::DistinguishedName::new();
        dn.push(DnType::CountryName, self.country.as_str());
        dn.push(DnType::StateOrProvinceName, self.state.as_str());
        if let Some(l) = &self.locality {
            dn.push(DnType::LocalityName, l.as_str());
        }
        dn.push(DnType::OrganizationName, self.organization.as_str());
        dn.push(DnType::CommonName, self.common_name.as_str());
        dn
    }
}

/// Extended key usage of the leaf.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Eku {
    /// id-kp-codeSigning: what Notary Project leaves should carry.
    #[default]
    CodeSigning,
    /// serverAuth + clientAuth: AKV's default certificate policy; notation rejects it.
    ServerClientAuth,
    /// No EKU extension (allowed by notation).
    None,
}

impl Eku {
    /// The OIDs, as AKV lists them in `policy.x509_props.ekus`.
    pub fn oids(self) -> &'static [&'static str] {
        match self {
            Eku::CodeSigning => &["1.3.6.1.5.5.7.3.3"],
            Eku::ServerClientAuth => &["1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2"],
            Eku::None => &[],
        }
    }
}

/// Key usage of the leaf (always critical).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum LeafKeyUsage {
    /// digitalSignature only: compliant.
    #[default]
    DigitalSignature,
    /// digitalSignature + keyEncipherment: AKV's default policy; notation rejects it.
    DigitalSignatureKeyEncipherment,
}

impl LeafKeyUsage {
    /// The names AKV uses in `policy.x509_props.key_usage`.
    pub fn akv_names(self) -> &'static [&'static str] {
        match self {
            LeafKeyUsage::DigitalSignature => &["digitalSignature"],
            LeafKeyUsage::DigitalSignatureKeyEncipherment => {
                &["digitalSignature", "keyEncipherment"]
            }
        }
    }
}

/// Validity window of the leaf. CA certificates are valid from ten years ago to ten years ahead,
/// so only the leaf is ever out of date.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Validity {
    /// From an hour ago for a year.
    #[default]
    Valid,
    /// Ended yesterday (started a year before).
    Expired,
    /// Starts tomorrow, for a year.
    NotYetValid,
    Explicit {
        not_before: OffsetDateTime,
        not_after: OffsetDateTime,
    },
}

impl Validity {
    /// `(not_before, not_after)`, truncated to whole seconds (what X.509 can hold).
    pub fn window(self) -> (OffsetDateTime, OffsetDateTime) {
        let now = OffsetDateTime::now_utc();
        let (nb, na) = match self {
            Validity::Valid => (now - Duration::hours(1), now + Duration::days(365)),
            Validity::Expired => (now - Duration::days(366), now - Duration::days(1)),
            Validity::NotYetValid => (now + Duration::days(1), now + Duration::days(366)),
            Validity::Explicit {
                not_before,
                not_after,
            } => (not_before, not_after),
        };
        (whole_seconds(nb), whole_seconds(na))
    }
}

pub(crate) fn whole_seconds(t: OffsetDateTime) -> OffsetDateTime {
    t.replace_nanosecond(0).unwrap_or(t)
}
