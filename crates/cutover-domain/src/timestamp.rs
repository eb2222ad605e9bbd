//! Instants as microseconds since the Unix epoch, written on the wire as RFC 3339 in
//! UTC with six fractional digits and a `Z` (`2026-11-28T01:49:09.123456Z`).

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(i64);

impl Timestamp {
    pub fn now() -> Self {
        let nanos = OffsetDateTime::now_utc().unix_timestamp_nanos();
        Self((nanos / 1_000) as i64)
    }

    pub fn from_micros(micros: i64) -> Self {
        Self(micros)
    }

    pub fn as_micros(self) -> i64 {
        self.0
    }

    /// 0000-01-01T00:00:00Z, the first instant RFC 3339 can write in UTC.
    const FIRST_WRITABLE_MICROS: i64 = -62_167_219_200_000_000;
    /// 9999-12-31T23:59:59.999999Z, the last one.
    const LAST_WRITABLE_MICROS: i64 = 253_402_300_799_999_999;

    /// Parses any RFC 3339 instant (with any offset) and keeps microsecond precision.
    /// An offset can carry a text written in years 0000–9999 outside them in UTC
    /// (`9999-12-31T07:00:00-17:00` is in year 10000): such an instant could not be
    /// written back in our form, so it is refused rather than answered wrongly.
    pub fn parse_rfc3339(text: &str) -> Option<Self> {
        let parsed = OffsetDateTime::parse(text, &Rfc3339).ok()?;
        let micros = (parsed.unix_timestamp_nanos() / 1_000) as i64;
        (Self::FIRST_WRITABLE_MICROS..=Self::LAST_WRITABLE_MICROS)
            .contains(&micros)
            .then_some(Self(micros))
    }

    pub fn plus_seconds(self, seconds: i64) -> Self {
        Self(self.0.saturating_add(seconds.saturating_mul(1_000_000)))
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let instant = OffsetDateTime::from_unix_timestamp_nanos(i128::from(self.0) * 1_000)
            .unwrap_or(OffsetDateTime::UNIX_EPOCH);
        write!(
            f,
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z",
            instant.year(),
            u8::from(instant.month()),
            instant.day(),
            instant.hour(),
            instant.minute(),
            instant.second(),
            instant.microsecond()
        )
    }
}

impl fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// On the wire: a string, RFC 3339 in UTC with six fractional digits and `Z`.
#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for Timestamp {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{KnownFormat, SchemaFormat, Type};
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)))
            .description(Some("RFC 3339 in UTC with microseconds and `Z`"))
            .pattern(Some(Self::PATTERN))
            .examples(["2026-11-28T01:49:09.123456Z"])
            .into()
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for Timestamp {}

impl Timestamp {
    /// The form every timestamp the server writes has.
    pub const PATTERN: &'static str = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$";
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::parse_rfc3339(&text)
            .ok_or_else(|| serde::de::Error::custom("expected an RFC 3339 timestamp"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_with_microseconds_and_z() {
        let t = Timestamp::from_micros(1_795_830_549_123_456);
        assert_eq!(t.to_string(), "2026-11-28T01:49:09.123456Z");
        assert_eq!(Timestamp::parse_rfc3339(&t.to_string()), Some(t));
    }

    /// Found by the property tests: these were accepted and then written as
    /// `1970-01-01T00:00:00.000000Z` (year 10000 cannot be formatted) and
    /// `-001-12-31T23:00:00.000000Z` (not RFC 3339), so a token's `expires_at` was
    /// answered as something else than what was stored.
    #[test]
    fn instants_outside_the_writable_years_are_refused() {
        assert_eq!(Timestamp::parse_rfc3339("9999-12-31T07:00:00-17:00"), None);
        assert_eq!(Timestamp::parse_rfc3339("0000-01-01T00:00:00+01:00"), None);
        for edge in ["0000-01-01T00:00:00.000000Z", "9999-12-31T23:59:59.999999Z"] {
            let instant = Timestamp::parse_rfc3339(edge).unwrap();
            assert_eq!(instant.to_string(), edge);
        }
        let shifted = Timestamp::parse_rfc3339("9999-12-31T23:00:00+01:00").unwrap();
        assert_eq!(shifted.to_string(), "9999-12-31T22:00:00.000000Z");
    }

    #[test]
    fn parses_offsets_into_utc() {
        let t = Timestamp::parse_rfc3339("2026-11-28T02:49:09.5+01:00").unwrap();
        assert_eq!(t.to_string(), "2026-11-28T01:49:09.500000Z");
    }
}
