//! Token buckets in bounded memory: the per-token request rate limit and the
//! per-address budget of failed authentications. Each server process keeps its own
//! buckets; nothing here is authoritative, so losing a bucket only forgives a caller.
//!
//! What must always hold: a map never holds more than its capacity of buckets. A
//! bucket that has refilled is the state a new caller would get anyway, so idle
//! buckets are dropped first; when the map is still full (many callers at once, all
//! busy), the least recently seen half goes.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::time::Instant;

use axum::extract::ConnectInfo;
use axum::http::Extensions;
use cutover_domain::TokenId;

use crate::http::error::{ApiError, ApiResult};

/// Buckets kept per map: about 100 bytes each, so at most ~10 MiB per map.
pub const MAX_BUCKETS: usize = 100_000;

#[derive(Clone, Copy)]
struct Bucket {
    level: f64,
    at: Instant,
}

/// `per_second` tokens on average, bursts up to `burst`, per key.
struct Buckets<K> {
    per_second: f64,
    burst: f64,
    capacity: usize,
    map: Mutex<HashMap<K, Bucket>>,
}

impl<K: Hash + Eq + Clone> Buckets<K> {
    fn new(per_second: f64, burst: u32, capacity: usize) -> Self {
        Self {
            per_second: per_second.max(f64::MIN_POSITIVE),
            burst: f64::from(burst.max(1)),
            capacity: capacity.max(2),
            map: Mutex::new(HashMap::new()),
        }
    }

    fn refilled(&self, bucket: Bucket, now: Instant) -> f64 {
        (bucket.level + now.duration_since(bucket.at).as_secs_f64() * self.per_second)
            .min(self.burst)
    }

    /// Seconds until one unit is available, at least 1 (`Retry-After` is whole
    /// seconds).
    fn wait(&self, level: f64) -> u64 {
        ((1.0 - level) / self.per_second)
            .ceil()
            .clamp(1.0, 86_400.0) as u64
    }

    /// Takes one unit for `key`, or says how long to wait for one.
    fn take(&self, key: &K) -> Result<(), u64> {
        let now = Instant::now();
        let mut map = self
            .map
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if !map.contains_key(key) && map.len() >= self.capacity {
            self.make_room(&mut map, now);
        }
        let bucket = map.entry(key.clone()).or_insert(Bucket {
            level: self.burst,
            at: now,
        });
        let level = self.refilled(*bucket, now);
        *bucket = Bucket { level, at: now };
        if level >= 1.0 {
            bucket.level -= 1.0;
            Ok(())
        } else {
            Err(self.wait(level))
        }
    }

    /// Whether `key` has used up its budget, without taking anything.
    fn exhausted(&self, key: &K) -> Option<u64> {
        let map = self
            .map
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let level = self.refilled(*map.get(key)?, Instant::now());
        (level < 1.0).then(|| self.wait(level))
    }

    fn make_room(&self, map: &mut HashMap<K, Bucket>, now: Instant) {
        map.retain(|_, bucket| self.refilled(*bucket, now) < self.burst);
        if map.len() < self.capacity {
            return;
        }
        let mut seen: Vec<Instant> = map.values().map(|bucket| bucket.at).collect();
        let middle = seen.len() / 2;
        let (_, cutoff, _) = seen.select_nth_unstable(middle);
        let cutoff = *cutoff;
        map.retain(|_, bucket| bucket.at > cutoff);
    }

    fn len(&self) -> usize {
        self.map.lock().map(|map| map.len()).unwrap_or_default()
    }
}

/// Requests per token: `per_second` on average, bursts up to `burst`.
pub struct RateLimiter(Buckets<TokenId>);

impl RateLimiter {
    pub fn new(per_second: u32, burst: u32) -> Self {
        Self::with_capacity(per_second, burst, MAX_BUCKETS)
    }

    pub fn with_capacity(per_second: u32, burst: u32, capacity: usize) -> Self {
        Self(Buckets::new(f64::from(per_second.max(1)), burst, capacity))
    }

    pub fn check(&self, token: &TokenId) -> ApiResult<()> {
        self.0
            .take(token)
            .map_err(|retry_after_seconds| ApiError::RateLimited {
                retry_after_seconds,
            })
    }

    /// Buckets kept now.
    pub fn tracked(&self) -> usize {
        self.0.len()
    }
}

/// Failed authentications per client address: `per_minute` on average, bursts up to
/// `burst`. An address over its budget is answered 429 before its token is looked up.
pub struct AuthFailureLimiter(Buckets<IpAddr>);

impl AuthFailureLimiter {
    pub fn new(per_minute: u32, burst: u32) -> Self {
        Self::with_capacity(per_minute, burst, MAX_BUCKETS)
    }

    pub fn with_capacity(per_minute: u32, burst: u32, capacity: usize) -> Self {
        Self(Buckets::new(
            f64::from(per_minute.max(1)) / 60.0,
            burst,
            capacity,
        ))
    }

    /// Refuses an address that has used up its budget of failures.
    pub fn admit(&self, address: IpAddr) -> ApiResult<()> {
        match self.0.exhausted(&address) {
            Some(retry_after_seconds) => Err(ApiError::RateLimited {
                retry_after_seconds,
            }),
            None => Ok(()),
        }
    }

    /// Counts one failed authentication against the address.
    pub fn record_failure(&self, address: IpAddr) {
        let _ = self.0.take(&address);
    }

    /// Buckets kept now.
    pub fn tracked(&self) -> usize {
        self.0.len()
    }
}

/// The address a request came from, as budgets count it: from the `ConnectInfo`
/// the server's accept loop puts in the request's extensions (`None` when absent, as
/// in a router called without one). IPv4-mapped IPv6 counts as IPv4, and IPv6 by its
/// /64, the block one host is usually given, so a host cannot escape its budget by
/// changing its low bits.
pub fn client_address(extensions: &Extensions) -> Option<IpAddr> {
    let ConnectInfo(peer) = extensions.get::<ConnectInfo<SocketAddr>>()?;
    Some(match peer.ip() {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let bits = u128::from(v6) & !((1u128 << 64) - 1);
                IpAddr::V6(bits.into())
            }
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_allows_its_burst_then_asks_to_wait() {
        let limiter = RateLimiter::new(1, 3);
        let token = TokenId::generate();
        for _ in 0..3 {
            assert!(limiter.check(&token).is_ok());
        }
        let refused = limiter.check(&token).unwrap_err();
        assert!(matches!(
            refused,
            ApiError::RateLimited {
                retry_after_seconds: 1
            }
        ));
        assert!(limiter.check(&TokenId::generate()).is_ok(), "per token");
    }

    #[test]
    fn failures_exhaust_an_address_and_only_that_address() {
        let limiter = AuthFailureLimiter::new(60, 2);
        let (one, two): (IpAddr, IpAddr) =
            ("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
        assert!(limiter.admit(one).is_ok());
        limiter.record_failure(one);
        assert!(limiter.admit(one).is_ok(), "one failure left");
        limiter.record_failure(one);
        assert!(matches!(
            limiter.admit(one),
            Err(ApiError::RateLimited { .. })
        ));
        assert!(limiter.admit(two).is_ok());
    }

    #[test]
    fn the_maps_stay_within_their_capacity() {
        let limiter = AuthFailureLimiter::with_capacity(1, 5, 64);
        for n in 0..10_000u32 {
            limiter.record_failure(IpAddr::V4(n.into()));
            assert!(limiter.tracked() <= 64);
        }
        let tokens = RateLimiter::with_capacity(1, 5, 64);
        for _ in 0..1_000 {
            tokens.check(&TokenId::generate()).unwrap();
            assert!(tokens.tracked() <= 64);
        }
    }

    #[test]
    fn addresses_count_by_host_block() {
        let mut extensions = Extensions::new();
        assert_eq!(client_address(&extensions), None);
        let peer: SocketAddr = "[2001:db8:1:2:aaaa:bbbb:cccc:dddd]:443".parse().unwrap();
        extensions.insert(ConnectInfo(peer));
        assert_eq!(
            client_address(&extensions),
            Some("2001:db8:1:2::".parse().unwrap())
        );
        let mapped: SocketAddr = "[::ffff:192.0.2.7]:80".parse().unwrap();
        extensions.insert(ConnectInfo(mapped));
        assert_eq!(
            client_address(&extensions),
            Some("192.0.2.7".parse().unwrap())
        );
    }
}
