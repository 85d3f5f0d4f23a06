//! Parsing of single configuration values: durations, booleans, enumerations, fingerprints.
//!
//! Every parser returns a message meant for a person ("not a duration …"); the caller adds which
//! key and which source the value came from.

use std::time::Duration;

/// `500ms`, `5s`, `2m`, `12h`, `30d` or a sum of them (`1h30m`); a bare number is refused because
/// its unit would be a guess.
pub fn duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let hint = "expected a duration such as 500ms, 5s, 2m, 12h, 30d or 1h30m";
    if text.is_empty() {
        return Err(format!("empty; {hint}"));
    }
    if text == "0" {
        return Ok(Duration::ZERO);
    }
    let mut total = Duration::ZERO;
    let mut rest = text;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err(format!("{text:?} is not a duration; {hint}"));
        }
        let number: u64 = rest[..digits]
            .parse()
            .map_err(|_| format!("{text:?} has a number that is too large"))?;
        rest = &rest[digits..];
        let unit_len = rest.bytes().take_while(u8::is_ascii_alphabetic).count();
        let unit = &rest[..unit_len];
        rest = &rest[unit_len..];
        let seconds_per_unit: Option<u64> = match unit {
            "ms" => None,
            "s" => Some(1),
            "m" => Some(60),
            "h" => Some(3600),
            "d" => Some(86_400),
            "" => return Err(format!("{text:?} has a number without a unit; {hint}")),
            other => return Err(format!("{text:?} has an unknown unit {other:?}; {hint}")),
        };
        let part = match seconds_per_unit {
            None => Duration::from_millis(number),
            Some(factor) => number
                .checked_mul(factor)
                .map(Duration::from_secs)
                .ok_or_else(|| format!("{text:?} is too long"))?,
        };
        total = total
            .checked_add(part)
            .ok_or_else(|| format!("{text:?} is too long"))?;
    }
    Ok(total)
}

/// `true`/`false` and the usual spellings of them.
pub fn boolean(text: &str) -> Result<bool, String> {
    match text.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" => Ok(false),
        _ => Err(format!("{text:?} is not a boolean; expected true or false")),
    }
}

/// One of a fixed set of lowercase words.
pub fn choice<T: Copy>(text: &str, options: &[(&str, T)]) -> Result<T, String> {
    let wanted = text.trim().to_ascii_lowercase();
    options
        .iter()
        .find(|(name, _)| *name == wanted)
        .map(|(_, value)| *value)
        .ok_or_else(|| {
            let names: Vec<&str> = options.iter().map(|(name, _)| *name).collect();
            format!("{text:?} is not one of: {}", names.join(", "))
        })
}

/// A SHA-256 fingerprint: 64 hex digits, optionally separated by `:` (as `openssl x509
/// -fingerprint` prints it); returned lowercase without separators.
pub fn sha256_hex(text: &str) -> Result<String, String> {
    let compact: String = text.trim().chars().filter(|c| *c != ':').collect();
    if compact.len() != 64 || !compact.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(format!(
            "{text:?} is not a SHA-256 fingerprint (64 hexadecimal digits, `:` separators allowed)"
        ));
    }
    Ok(compact.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(duration("5s"), Ok(Duration::from_secs(5)));
        assert_eq!(duration("30d"), Ok(Duration::from_secs(30 * 86_400)));
        assert_eq!(duration("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(duration("0"), Ok(Duration::ZERO));
        for bad in ["", "5", "5x", "s", "-1s", "1.5s", "99999999999999999999d"] {
            assert!(duration(bad).is_err(), "{bad:?} must be refused");
        }
    }

    #[test]
    fn booleans_and_choices() {
        assert_eq!(boolean("TRUE"), Ok(true));
        assert_eq!(boolean("off"), Ok(false));
        assert!(boolean("maybe").is_err());
        assert_eq!(choice("SHA256", &[("sha1", 1), ("sha256", 2)]), Ok(2));
        let err = choice("md5", &[("sha1", 1), ("sha256", 2)]).unwrap_err();
        assert!(err.contains("sha1, sha256"), "{err}");
    }

    #[test]
    fn fingerprints() {
        let colon = "AB:".repeat(31) + "AB";
        assert_eq!(sha256_hex(&colon), Ok("ab".repeat(32)));
        assert!(sha256_hex("abcd").is_err());
        assert!(sha256_hex(&"zz".repeat(32)).is_err());
    }
}
