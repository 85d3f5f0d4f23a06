//! Distinguished names with notation-go's semantics for `x509.subject:` trusted identities.
//!
//! notation-go (`verifier.verifyX509TrustedIdentities`, `internal/pkix`) matches a trusted identity
//! against the leaf certificate like this:
//! 1. the leaf subject is rendered with Go's `pkix.Name.String()`;
//! 2. both the identity and that rendering are parsed with go-ldap `ParseDN` and turned into a map
//!    from attribute type to value; `S` becomes `ST`; multi-valued RDNs, duplicate types, values
//!    written as `=#hex` and a missing `C`, `ST` or `O` are errors;
//! 3. the identity matches when every one of its pairs is in the leaf's map (exact, case-sensitive).
//!
//! Step 1 has consequences users notice, reproduced here: attributes Go has no short name for
//! (emailAddress, DC, UID, …) render as `OID=#hex`, so such a leaf can only match `*`; repeated `OU`
//! or `O` values render as one multi-valued RDN, so that leaf never matches either; attribute types
//! are compared as written (`st=WA` does not match `ST=WA`).

use std::fmt;

use der::{Encode, Tag, Tagged};
use x509_cert::attr::AttributeTypeAndValue;
use x509_cert::name::Name;

/// A distinguished name reduced to notation's attribute map, in first-seen order.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct DistinguishedName {
    attributes: Vec<(String, Vec<u8>)>,
}

impl DistinguishedName {
    /// The value of an attribute type as written (`ST`, `CN`, …; `S` is stored as `ST`).
    pub fn get(&self, attribute_type: &str) -> Option<&[u8]> {
        self.attributes
            .iter()
            .find(|(t, _)| t == attribute_type)
            .map(|(_, v)| v.as_slice())
    }

    /// Attribute types and values in first-seen order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &[u8])> {
        self.attributes
            .iter()
            .map(|(t, v)| (t.as_str(), v.as_slice()))
    }

    fn value_or_empty(&self, attribute_type: &str) -> &[u8] {
        self.get(attribute_type).unwrap_or_default()
    }

    /// notation-go `IsSubsetDN`: every pair of `self` is in `other`. As in Go, an absent attribute
    /// counts as the empty value.
    fn is_subset_of(&self, other: &DistinguishedName) -> bool {
        self.attributes
            .iter()
            .all(|(t, v)| other.value_or_empty(t) == v.as_slice())
    }
}

impl fmt::Display for DistinguishedName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (t, v)) in self.attributes.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{t}={}", String::from_utf8_lossy(v))?;
        }
        Ok(())
    }
}

/// Why a DN is not acceptable as an `x509.subject` identity (or leaf subject).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error(
        "unsupported distinguished name (DN) {0:?}: notation does not support x509.subject identities containing \"=#\""
    )]
    HexValue(String),
    #[error(
        "parsing distinguished name (DN) {dn:?} failed: {reason}. A valid DN must contain 'C', 'ST' or 'S', and 'O' RDN attributes at a minimum, and follow RFC 4514 standard"
    )]
    Syntax { dn: String, reason: String },
    #[error(
        "distinguished name (DN) {0:?} has multi-valued RDN attributes, remove multi-valued RDN attributes as they are not supported"
    )]
    MultiValued(String),
    #[error(
        "distinguished name (DN) {dn:?} has duplicate RDN attribute for {attribute:?}, DN can only have unique RDN attributes"
    )]
    Duplicate { dn: String, attribute: String },
    #[error(
        "distinguished name (DN) {dn:?} has no mandatory RDN attribute for {attribute:?}, it must contain 'C', 'ST' or 'S', and 'O' RDN attributes at a minimum"
    )]
    MissingMandatory { dn: String, attribute: String },
}

/// Parses a DN with notation-go `pkix.ParseDistinguishedName` rules (see the module docs).
pub fn parse_distinguished_name(dn: &str) -> Result<DistinguishedName, NameError> {
    if dn.contains("=#") {
        return Err(NameError::HexValue(dn.to_string()));
    }
    let rdns = ldap_parse(dn).map_err(|reason| NameError::Syntax {
        dn: dn.to_string(),
        reason,
    })?;
    let mut out = DistinguishedName::default();
    for rdn in rdns {
        if rdn.len() > 1 {
            return Err(NameError::MultiValued(dn.to_string()));
        }
        for (t, v) in rdn {
            let t = if t == "S" { "ST".to_string() } else { t };
            match out.attributes.iter_mut().find(|(k, _)| *k == t) {
                // Go only treats a repeat as a duplicate when the first value was non-empty.
                Some((_, existing)) if existing.is_empty() => *existing = v,
                Some(_) => {
                    return Err(NameError::Duplicate {
                        dn: dn.to_string(),
                        attribute: t,
                    });
                }
                None => out.attributes.push((t, v)),
            }
        }
    }
    for mandatory in ["C", "ST", "O"] {
        if out.value_or_empty(mandatory).is_empty() {
            return Err(NameError::MissingMandatory {
                dn: dn.to_string(),
                attribute: mandatory.to_string(),
            });
        }
    }
    Ok(out)
}

/// notation-go `IsSubsetDN`: whether every attribute of `identity` (an `x509.subject` value) has the
/// same value in `subject`; an attribute absent from `subject` counts as the empty value, as in Go.
pub fn is_subset(identity: &DistinguishedName, subject: &DistinguishedName) -> bool {
    identity.is_subset_of(subject)
}

/// The prefix of trusted identities notation interprets itself.
pub const X509_SUBJECT_PREFIX: &str = "x509.subject";

/// Why `trustedIdentities` did not accept a leaf certificate.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum IdentityError {
    #[error("trusted identity {0:?} is missing the \"prefix:value\" separator")]
    MissingSeparator(String),
    #[error("trusted identity {0:?} has no identity value")]
    EmptyValue(String),
    #[error("invalid trusted identity: {0}")]
    InvalidIdentity(NameError),
    #[error("no x509 trusted identities are configured in the trust policy")]
    NoX509Identities,
    #[error("error while parsing the certificate subject from the digital signature: {0}")]
    InvalidSubject(NameError),
    #[error(
        "signing certificate {subject:?} does not match the X.509 trusted identities defined in the trust policy"
    )]
    NoMatch { subject: String },
}

/// notation-go `verifyX509TrustedIdentities`: `*` accepts anything; otherwise every `x509.subject:`
/// entry is parsed (other prefixes are someone else's business and are skipped), at least one must
/// exist, and the leaf subject must contain one of them.
///
/// `leaf_subject` is the signing certificate's subject, `&leaf.x509().tbs_certificate.subject`.
pub fn verify_x509_trusted_identities(
    trusted_identities: &[String],
    leaf_subject: &Name,
) -> Result<(), IdentityError> {
    if trusted_identities.iter().any(|i| i == "*") {
        return Ok(());
    }
    let mut x509_identities = Vec::new();
    for identity in trusted_identities {
        let Some((prefix, value)) = identity.split_once(':') else {
            return Err(IdentityError::MissingSeparator(identity.clone()));
        };
        if prefix == X509_SUBJECT_PREFIX {
            if value.is_empty() {
                return Err(IdentityError::EmptyValue(identity.clone()));
            }
            x509_identities
                .push(parse_distinguished_name(value).map_err(IdentityError::InvalidIdentity)?);
        }
    }
    if x509_identities.is_empty() {
        return Err(IdentityError::NoX509Identities);
    }
    let rendered = render_like_go(leaf_subject);
    let subject = parse_distinguished_name(&rendered).map_err(IdentityError::InvalidSubject)?;
    if x509_identities.iter().any(|i| i.is_subset_of(&subject)) {
        Ok(())
    } else {
        Err(IdentityError::NoMatch { subject: rendered })
    }
}

// ---------------------------------------------------------------------------------------------
// go-ldap v3 `ParseDN`, byte for byte in behaviour (including its leniencies).

type Rdn = Vec<(String, Vec<u8>)>;

fn ldap_parse(s: &str) -> Result<Vec<Rdn>, String> {
    let mut rdns = Vec::new();
    if s.trim().is_empty() {
        return Ok(rdns);
    }
    let bytes = s.as_bytes();
    let mut rdn: Rdn = Vec::new();
    let mut attr_type = String::new();
    let mut escaping = false;
    let mut start = 0;
    for (i, &c) in bytes.iter().enumerate() {
        if escaping {
            escaping = false;
        } else if c == b'\\' {
            escaping = true;
        } else if c == b'=' && attr_type.is_empty() {
            attr_type = String::from_utf8_lossy(&ldap_decode(&s[start..i])?).into_owned();
            start = i + 1;
        } else if c == b',' || c == b'+' || c == b';' {
            if attr_type.is_empty() {
                return Err("incomplete type, value pair".into());
            }
            let value = ldap_value(&s[start..i])?;
            rdn.push((std::mem::take(&mut attr_type), value));
            start = i + 1;
            if c != b'+' {
                rdns.push(std::mem::take(&mut rdn));
            }
        }
    }
    if attr_type.is_empty() {
        return Err("DN ended with incomplete type, value pair".into());
    }
    let value = ldap_value(&s[start..])?;
    rdn.push((attr_type, value));
    rdns.push(rdn);
    Ok(rdns)
}

fn ldap_value(raw: &str) -> Result<Vec<u8>, String> {
    if raw.starts_with('#') {
        // go-ldap would BER-decode this; notation rejects "=#" before parsing, so it cannot occur.
        return Err("hex-encoded attribute values are not supported".into());
    }
    ldap_decode(raw)
}

/// go-ldap `decodeString`: trim spaces (keeping an escaped trailing one) and resolve `\c` / `\XX`.
fn ldap_decode(raw: &str) -> Result<Vec<u8>, String> {
    let mut trimmed = raw.trim_matches(' ').to_string();
    if trimmed.ends_with('\\') && raw.ends_with(' ') {
        trimmed.push(' ');
    }
    let chars: Vec<char> = trimmed.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c != '\\' {
            let mut buf = [0u8; 4];
            out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            i += 1;
            continue;
        }
        let Some(&next) = chars.get(i + 1) else {
            return Err(format!("got corrupted escaped character: '{trimmed}'"));
        };
        if matches!(
            next,
            ' ' | '"' | '#' | '+' | ',' | ';' | '<' | '=' | '>' | '\\'
        ) {
            out.push(next as u8);
            i += 2;
            continue;
        }
        if i + 2 >= chars.len() {
            return Err(format!(
                "failed to decode escaped character: encoding/hex: invalid byte: {next}"
            ));
        }
        let pair: String = chars[i + 1..i + 3].iter().collect();
        if pair.len() != 2 {
            return Err(format!(
                "failed to decode escaped character: invalid byte: {pair}"
            ));
        }
        let byte = u8::from_str_radix(&pair, 16)
            .ok()
            .filter(|_| pair.bytes().all(|b| b.is_ascii_hexdigit()))
            .ok_or_else(|| {
                format!("failed to decode escaped character: encoding/hex: invalid byte: {pair}")
            })?;
        out.push(byte);
        i += 3;
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// Go `pkix.Name.String()` for a parsed certificate name.

/// Go's short names (`crypto/x509/pkix.attributeTypeNames`), keyed by the last arc of `2.5.4.x`.
const GO_SHORT_NAMES: [(u32, &str); 9] = [
    (6, "C"),
    (10, "O"),
    (11, "OU"),
    (3, "CN"),
    (5, "SERIALNUMBER"),
    (7, "L"),
    (8, "ST"),
    (9, "STREET"),
    (17, "POSTALCODE"),
];

/// The order `pkix.Name.ToRDNSequence` emits the parsed fields in.
const GO_FIELD_ORDER: [u32; 9] = [6, 8, 7, 9, 17, 10, 11, 3, 5];

fn standard_arc(atv: &AttributeTypeAndValue) -> Option<u32> {
    let arcs: Vec<u32> = atv.oid.arcs().collect();
    match arcs.as_slice() {
        [2, 5, 4, last] if GO_SHORT_NAMES.iter().any(|(a, _)| a == last) => Some(*last),
        _ => None,
    }
}

/// Renders a name exactly as Go's `pkix.Name.String()` does for a parsed certificate: parsed
/// standard fields in a fixed order (repeated C/ST/L/STREET/POSTALCODE/O/OU values grouped as one
/// multi-valued RDN, only the last CN and SERIALNUMBER kept), other attributes as `OID=#hex` at the
/// end, RDNs reversed, RFC 4514 escaping of `,+"\<>;` and of a leading `#` or leading/trailing space.
pub fn render_like_go(name: &Name) -> String {
    let atvs: Vec<&AttributeTypeAndValue> = name.0.iter().flat_map(|rdn| rdn.0.iter()).collect();

    // Go's RDNSequence before reversal: non-standard attributes first, then the parsed fields.
    let mut rdns: Vec<Vec<String>> = Vec::new();
    for atv in &atvs {
        if standard_arc(atv).is_none() {
            rdns.push(vec![format!(
                "{}=#{}",
                atv.oid,
                crate::hex::lower(&go_remarshal(atv))
            )]);
        }
    }
    for arc in GO_FIELD_ORDER {
        let short = GO_SHORT_NAMES
            .iter()
            .find(|(a, _)| *a == arc)
            .map(|(_, n)| *n)
            .unwrap_or_default();
        let values: Vec<String> = atvs
            .iter()
            .filter(|atv| standard_arc(atv) == Some(arc))
            .filter_map(|atv| go_string_value(atv))
            .collect();
        let values = match arc {
            // CommonName and SerialNumber are single strings in pkix.Name: the last one wins and
            // an empty one is omitted.
            3 | 5 => values
                .last()
                .filter(|v| !v.is_empty())
                .cloned()
                .into_iter()
                .collect(),
            _ => values,
        };
        if !values.is_empty() {
            rdns.push(
                values
                    .iter()
                    .map(|v| format!("{short}={}", go_escape(v)))
                    .collect(),
            );
        }
    }
    rdns.iter()
        .rev()
        .map(|rdn| rdn.join("+"))
        .collect::<Vec<_>>()
        .join(",")
}

/// The string Go's certificate parser produces for a name value, or `None` for types it cannot
/// read (Go then rejects the certificate; here the attribute is just left out).
fn go_string_value(atv: &AttributeTypeAndValue) -> Option<String> {
    let value = atv.value.value();
    match atv.value.tag() {
        Tag::Utf8String | Tag::PrintableString | Tag::Ia5String | Tag::NumericString => {
            std::str::from_utf8(value).ok().map(str::to_string)
        }
        // Go keeps T61String bytes as they are: identical when they are UTF-8 (ASCII in practice);
        // otherwise Latin-1 is the closest readable interpretation.
        Tag::TeletexString => Some(
            std::str::from_utf8(value)
                .map(str::to_string)
                .unwrap_or_else(|_| value.iter().map(|&b| char::from(b)).collect()),
        ),
        Tag::BmpString => {
            let units: Vec<u16> = value
                .chunks(2)
                .map(|c| u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]))
                .collect();
            String::from_utf16(&units).ok()
        }
        _ => None,
    }
}

/// Go re-marshals an unknown attribute's string value (PrintableString when printable, else
/// UTF8String) before hex-encoding it; other values are shown as their original DER.
fn go_remarshal(atv: &AttributeTypeAndValue) -> Vec<u8> {
    if let Some(s) = go_string_value(atv) {
        let printable = s.chars().all(|c| {
            c.is_ascii_alphanumeric() || " '()+,-./:=?".contains(c) // ASN.1 PrintableString
        });
        let encoded = if printable {
            der::asn1::PrintableStringRef::new(&s).and_then(|p| p.to_der())
        } else {
            der::asn1::Utf8StringRef::new(&s).and_then(|u| u.to_der())
        };
        if let Ok(der) = encoded {
            return der;
        }
    }
    atv.value.to_der().unwrap_or_default()
}

fn go_escape(value: &str) -> String {
    let last = value.len().saturating_sub(1);
    let mut out = String::with_capacity(value.len());
    for (k, c) in value.char_indices() {
        let escape = match c {
            ',' | '+' | '"' | '\\' | '<' | '>' | ';' => true,
            ' ' => k == 0 || k == last,
            '#' => k == 0,
            _ => false,
        };
        if escape {
            out.push('\\');
        }
        out.push(c);
    }
    out
}
