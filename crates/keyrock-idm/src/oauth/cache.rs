//! The evaluations `/user` keeps for a moment (keyrock.md 6): whose token, its token info
//! and the permissions of its roles, per token and `app_id`, for at most [`STALENESS`].
//!
//! A PEP proxy asks `/user` about the same token for every request it passes, so most
//! answers come from here with no database work. The price is bounded staleness: a change
//! made through another node (a revocation, a role change, a disabled user) is seen here at
//! most [`STALENESS`] later. A revocation through this node clears the cache at once, and a
//! token's own expiry is checked on every answer. Only successful evaluations are kept.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use auth_core::secrets::sha256_hex;
use time::{Duration, OffsetDateTime};

use super::pdp::Rule;
use super::userinfo::TokenInfo;

/// How long an evaluation is reused (docs/operations.md states it).
pub const STALENESS: Duration = Duration::seconds(1);
/// Most evaluations kept; past it, stale ones are dropped, and all of them if none is stale.
const CAPACITY: usize = 65_536;

/// A token's evaluation, without the decision.
#[derive(Debug)]
pub struct Evaluation {
    pub info: TokenInfo,
    /// The non-internal permissions of the user's roles in the evaluated application.
    pub rules: Vec<Rule>,
    /// The token's own expiry (`None`: permanent), checked on every answer.
    pub expires_at: Option<OffsetDateTime>,
    pub evaluated_at: OffsetDateTime,
}

/// Keyed by the SHA-256 digest of the token (the plaintext is not kept) and the `app_id`.
type Key = (String, Option<String>);

/// The evaluations of one process; bounded in size and in age.
#[derive(Debug, Default)]
pub struct TokenInfoCache {
    entries: Mutex<HashMap<Key, Arc<Evaluation>>>,
}

impl TokenInfoCache {
    pub fn new() -> Self {
        Self::default()
    }

    fn key(token: &str, app_id: Option<&str>) -> Key {
        (sha256_hex(token), app_id.map(str::to_owned))
    }

    /// The evaluation of this token and `app_id`, if one was made less than [`STALENESS`]
    /// before `now`.
    pub fn fresh(
        &self,
        token: &str,
        app_id: Option<&str>,
        now: OffsetDateTime,
    ) -> Option<Arc<Evaluation>> {
        let key = Self::key(token, app_id);
        let entries = self.entries.lock().ok()?;
        entries
            .get(&key)
            .filter(|e| now - e.evaluated_at < STALENESS && e.evaluated_at <= now)
            .cloned()
    }

    pub fn put(&self, token: &str, app_id: Option<&str>, evaluation: Arc<Evaluation>) {
        let now = evaluation.evaluated_at;
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= CAPACITY {
                entries.retain(|_, e| now - e.evaluated_at < STALENESS);
                if entries.len() >= CAPACITY {
                    entries.clear();
                }
            }
            entries.insert(Self::key(token, app_id), evaluation);
        }
    }

    /// Forgets every evaluation (after a revocation through this process).
    pub fn clear(&self) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.clear();
        }
    }

    pub fn len(&self) -> usize {
        self.entries.lock().map(|e| e.len()).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oauth::pdp::Decision;
    use crate::oauth::userinfo::ClientTokenInfo;

    fn evaluation(at: OffsetDateTime) -> Arc<Evaluation> {
        Arc::new(Evaluation {
            info: TokenInfo::Client(ClientTokenInfo {
                app_id: "app".to_owned(),
                authorization_decision: Decision::NotAsked,
            }),
            rules: Vec::new(),
            expires_at: None,
            evaluated_at: at,
        })
    }

    #[test]
    fn evaluations_are_reused_for_at_most_the_staleness_bound() {
        let cache = TokenInfoCache::new();
        let t0 = OffsetDateTime::now_utc();
        cache.put("tok", Some("app"), evaluation(t0));
        assert!(cache.fresh("tok", Some("app"), t0).is_some());
        assert!(cache
            .fresh("tok", Some("app"), t0 + Duration::milliseconds(999))
            .is_some());
        assert!(cache.fresh("tok", Some("app"), t0 + STALENESS).is_none());
        assert!(
            cache.fresh("tok", None, t0).is_none(),
            "app_id is part of the key"
        );
        assert!(cache.fresh("other", Some("app"), t0).is_none());
        cache.clear();
        assert!(cache.fresh("tok", Some("app"), t0).is_none());
    }

    #[test]
    fn the_cache_is_bounded() {
        let cache = TokenInfoCache::new();
        let t0 = OffsetDateTime::now_utc();
        for i in 0..(CAPACITY + 5) {
            cache.put(&format!("t{i}"), None, evaluation(t0));
        }
        assert!(cache.len() <= CAPACITY);
        assert!(cache
            .fresh(&format!("t{}", CAPACITY + 4), None, t0)
            .is_some());
    }
}
