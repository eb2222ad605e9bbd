//! Draft entities made ready to store before any transaction starts: encoded as the
//! JSON they are answered with, as the canonical JSON their part of a release's
//! content hash covers, and digested (see `cutover_domain::digest`). Preparing is the
//! CPU-heavy part of a draft write, so stores do it outside their transaction (on
//! SQLite, off the single writer thread), and the transaction only writes rows.

use cutover_domain::digest::EntityDigest;
use cutover_domain::model::{Augmentation, Endpoint};
use cutover_domain::snapshot::CanonicalObject;
use serde::de::DeserializeOwned;

use crate::{StoreError, StoreResult};

/// An entity with everything a store writes beside it.
#[derive(Debug, Clone)]
pub struct Prepared<T> {
    pub entity: T,
    /// The entity as its answers encode it (`serde_json`, compact).
    pub body: String,
    /// Its content as canonical JSON.
    pub canonical: String,
    pub digest: EntityDigest,
}

impl<T> Prepared<T> {
    /// Bytes this entity counts against the app's draft limit.
    pub fn stored_bytes(&self) -> u64 {
        self.body.len() as u64
    }
}

fn encode<T: serde::Serialize>(entity: &T) -> StoreResult<String> {
    serde_json::to_string(entity)
        .map_err(|err| StoreError::internal_from("encoding a draft entity", err))
}

impl Prepared<Endpoint> {
    pub fn endpoint(entity: Endpoint) -> StoreResult<Self> {
        let canonical = CanonicalObject::of_endpoint(&entity);
        let digest = EntityDigest::of_canonical(&canonical);
        Ok(Self {
            body: encode(&entity)?,
            canonical: canonical.text,
            digest,
            entity,
        })
    }
}

impl Prepared<Augmentation> {
    pub fn augmentation(entity: Augmentation) -> StoreResult<Self> {
        let canonical = CanonicalObject::of_augmentation(&entity);
        let digest = EntityDigest::of_canonical(&canonical);
        Ok(Self {
            body: encode(&entity)?,
            canonical: canonical.text,
            digest,
            entity,
        })
    }
}

/// Decodes JSON this service stored itself. Stored values were accepted under the
/// input depth limit, but rows written before that limit existed may nest deeper than
/// the parser's default limit of 128 (a value at depth 127 inside a release); they are
/// read without the limit, which is safe because their depth is bounded by what the
/// parser accepted when they came in.
pub fn decode_stored<T: DeserializeOwned>(text: &str, what: &str) -> StoreResult<T> {
    let mut deserializer = serde_json::Deserializer::from_str(text);
    deserializer.disable_recursion_limit();
    let value = T::deserialize(&mut deserializer)
        .and_then(|value| deserializer.end().map(|()| value))
        .map_err(|err| StoreError::internal_from(format!("a stored {what} is unreadable"), err))?;
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A value just past the parser's default limit, as an old release could hold.
    #[test]
    fn stored_json_deeper_than_the_default_limit_is_read() {
        let depth = 140;
        let text = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        assert!(serde_json::from_str::<serde_json::Value>(&text).is_err());
        let value: serde_json::Value = decode_stored(&text, "value").unwrap();
        assert_eq!(cutover_domain::limits::json_depth(&value), depth);
    }
}
