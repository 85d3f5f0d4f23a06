//! `x509.subject` trusted identities against leaf subjects, table-driven from
//! `trusted_identity_cases.json` (outcomes derived from notation-go; reusable for parity runs).

use std::str::FromStr;

use der::asn1::{Any, SetOfVec};
use der::{Tag, asn1::ObjectIdentifier};
use notation_akv_x509::name::{IdentityError, render_like_go};
use notation_akv_x509::{
    NameError, is_subset, parse_distinguished_name, verify_x509_trusted_identities,
};
use serde::Deserialize;
use x509_cert::attr::AttributeTypeAndValue;
use x509_cert::name::{Name, RdnSequence, RelativeDistinguishedName};

#[derive(Deserialize)]
struct Table {
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    name: String,
    identities: Vec<String>,
    subject: Vec<Vec<String>>,
    expect: String,
}

/// Builds the subject the way the table describes it.
fn subject(rdns: &[Vec<String>]) -> Name {
    let rdns = rdns
        .iter()
        .map(|rdn| {
            let atvs: Vec<AttributeTypeAndValue> = rdn
                .iter()
                .map(|tv| {
                    let (t, v) = tv.split_once('=').unwrap();
                    let oid = match t {
                        "C" => "2.5.4.6",
                        "ST" => "2.5.4.8",
                        "L" => "2.5.4.7",
                        "STREET" => "2.5.4.9",
                        "POSTALCODE" => "2.5.4.17",
                        "O" => "2.5.4.10",
                        "OU" => "2.5.4.11",
                        "CN" => "2.5.4.3",
                        "SERIALNUMBER" => "2.5.4.5",
                        dotted => dotted,
                    };
                    let tag = match t {
                        "C" | "SERIALNUMBER" => Tag::PrintableString,
                        "1.2.840.113549.1.9.1" | "0.9.2342.19200300.100.1.25" => Tag::Ia5String,
                        _ => Tag::Utf8String,
                    };
                    AttributeTypeAndValue {
                        oid: ObjectIdentifier::from_str(oid).unwrap(),
                        value: Any::new(tag, v.as_bytes()).unwrap(),
                    }
                })
                .collect();
            RelativeDistinguishedName(SetOfVec::try_from(atvs).unwrap())
        })
        .collect();
    RdnSequence(rdns)
}

fn outcome(result: Result<(), IdentityError>) -> &'static str {
    match result {
        Ok(()) => "match",
        Err(IdentityError::NoMatch { .. }) => "no-match",
        Err(IdentityError::InvalidIdentity(_)) => "invalid-identity",
        Err(IdentityError::InvalidSubject(_)) => "invalid-subject",
        Err(IdentityError::NoX509Identities) => "no-x509-identities",
        Err(IdentityError::MissingSeparator(_)) => "missing-separator",
        Err(IdentityError::EmptyValue(_)) => "empty-value",
    }
}

#[test]
fn table_of_cases_matches_notation_go() {
    let table: Table = serde_json::from_str(include_str!("trusted_identity_cases.json")).unwrap();
    assert!(table.cases.len() >= 60);
    let mut failures = Vec::new();
    for case in &table.cases {
        let name = subject(&case.subject);
        let got = outcome(verify_x509_trusted_identities(&case.identities, &name));
        if got != case.expect {
            failures.push(format!(
                "{}: expected {}, got {got} (subject renders as {:?})",
                case.name,
                case.expect,
                render_like_go(&name)
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn subjects_render_like_go() {
    let cases: [(&[&[&str]], &str); 5] = [
        (
            &[
                &["C=US"],
                &["ST=WA"],
                &["L=Seattle"],
                &["O=Acme"],
                &["CN=leaf"],
            ],
            "CN=leaf,O=Acme,L=Seattle,ST=WA,C=US",
        ),
        // Go's field order, not the certificate's.
        (
            &[&["CN=leaf"], &["O=Acme"], &["C=US"], &["ST=WA"]],
            "CN=leaf,O=Acme,ST=WA,C=US",
        ),
        (&[&["C=US"], &["OU=a"], &["OU=b"]], "OU=a+OU=b,C=US"),
        (
            &[&["C=US"], &["CN=a,b+c \"d\" <e>; #f "]],
            "CN=a\\,b\\+c \\\"d\\\" \\<e\\>\\; #f\\ ,C=US",
        ),
        // Go re-marshals the value: UTF8String because `@` is not printable.
        (
            &[&["1.2.840.113549.1.9.1=a@b"], &["C=US"]],
            "C=US,1.2.840.113549.1.9.1=#0c03614062",
        ),
    ];
    for (rdns, expected) in cases {
        let rdns: Vec<Vec<String>> = rdns
            .iter()
            .map(|r| r.iter().map(|s| s.to_string()).collect())
            .collect();
        assert_eq!(render_like_go(&subject(&rdns)), expected);
    }
}

#[test]
fn parse_errors_say_what_is_wrong() {
    let err = parse_distinguished_name("C=US, O=Acme").unwrap_err();
    assert!(matches!(&err, NameError::MissingMandatory { attribute, .. } if attribute == "ST"));
    assert!(err.to_string().contains("'C', 'ST' or 'S', and 'O'"));
    assert!(matches!(
        parse_distinguished_name("C=US+ST=WA, O=A"),
        Err(NameError::MultiValued(_))
    ));
    assert!(matches!(
        parse_distinguished_name("C=US, ST=WA, O=#00"),
        Err(NameError::HexValue(_))
    ));
    assert!(matches!(
        parse_distinguished_name("C=US, ST=WA, O=A, O=B"),
        Err(NameError::Duplicate { attribute, .. }) if attribute == "O"
    ));
    assert!(matches!(
        parse_distinguished_name("C=US, ST=WA, O=A,"),
        Err(NameError::Syntax { .. })
    ));
}

#[test]
fn subset_is_by_attribute_not_by_position() {
    let identity = parse_distinguished_name("O=Acme, ST=WA, C=US").unwrap();
    let leaf = parse_distinguished_name("CN=leaf,O=Acme,L=Seattle,ST=WA,C=US").unwrap();
    assert!(is_subset(&identity, &leaf));
    assert!(!is_subset(&leaf, &identity));
    assert_eq!(leaf.get("L"), Some(&b"Seattle"[..]));
    assert_eq!(
        parse_distinguished_name("C=US, S=WA, O=A")
            .unwrap()
            .get("ST"),
        Some(&b"WA"[..])
    );
}
