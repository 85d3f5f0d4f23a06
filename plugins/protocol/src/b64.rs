//! Byte fields on the wire: RFC 4648 standard base64 *with* padding, the only form Go's
//! `encoding/json` produces and accepts for `[]byte`. URL-safe or unpadded input is refused so a
//! mistake shows up here rather than as an opaque notation failure.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Deserializer, Serializer, de::Error as _};

pub fn encode(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

pub fn decode(text: &str) -> Result<Vec<u8>, base64::DecodeError> {
    STANDARD.decode(text)
}

/// `#[serde(with = "b64::bytes")]` for a required byte field.
pub mod bytes {
    use super::*;

    pub fn serialize<S: Serializer>(value: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&encode(value))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(d)?;
        decode(&text).map_err(|e| D::Error::custom(format!("not padded standard base64: {e}")))
    }
}

/// `#[serde(with = "b64::list")]` for `[][]byte`; Go sends `null` for a nil slice.
pub mod list {
    use super::*;

    pub fn serialize<S: Serializer>(value: &[Vec<u8>], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(value.iter().map(|b| encode(b)))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Vec<u8>>, D::Error> {
        let items = Option::<Vec<String>>::deserialize(d)?.unwrap_or_default();
        items
            .iter()
            .enumerate()
            .map(|(i, text)| {
                decode(text).map_err(|e| {
                    D::Error::custom(format!("item {i} is not padded standard base64: {e}"))
                })
            })
            .collect()
    }
}

/// Accepts `null` where Go sends a nil slice or map.
pub(crate) fn null_as_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}
