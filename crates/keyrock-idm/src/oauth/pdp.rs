//! The basic policy decision point (keyrock.md 6.4): does one of the user's roles in the
//! application carry a permission for this action on this resource?

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use diesel::prelude::*;
use regex::{Regex, RegexBuilder};
use serde::Serialize;
use storage::schema::{permissions, role_permissions};
use storage::DbConn;

use super::userinfo::{PdpQuestion, UserInfoError};

/// `authorization_decision`: `""` when no decision was asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Decision {
    #[serde(rename = "")]
    NotAsked,
    Permit,
    Deny,
}

impl Decision {
    pub fn not_asked(&self) -> bool {
        *self == Decision::NotAsked
    }
}

/// Most patterns kept compiled; past it the cache starts over (patterns are few in
/// practice; the bound keeps a flood of distinct permissions from growing memory).
const CACHE_CAPACITY: usize = 4096;
/// Compiled size limit of one pattern (regex's default is 10 MiB).
const PATTERN_SIZE_LIMIT: usize = 1 << 20;

/// Compiled permission patterns, keyed by the pattern text (an edited permission has a new
/// text, so a stale entry is never used), bounded. `None`: the pattern does not compile.
#[derive(Debug, Default)]
pub struct PatternCache {
    compiled: Mutex<HashMap<String, Option<Arc<Regex>>>>,
}

impl PatternCache {
    pub fn new() -> Self {
        Self::default()
    }

    fn get(&self, pattern: &str) -> Option<Arc<Regex>> {
        if let Ok(map) = self.compiled.lock() {
            if let Some(found) = map.get(pattern) {
                return found.clone();
            }
        }
        let compiled = RegexBuilder::new(pattern)
            .case_insensitive(true)
            .size_limit(PATTERN_SIZE_LIMIT)
            .build()
            .ok()
            .map(Arc::new);
        if let Ok(mut map) = self.compiled.lock() {
            if map.len() >= CACHE_CAPACITY {
                map.clear();
            }
            map.insert(pattern.to_owned(), compiled.clone());
        }
        compiled
    }

    /// Whether `pattern` is found anywhere in `resource`, ignoring case.
    pub fn is_match(&self, pattern: &str, resource: &str) -> bool {
        self.get(pattern).is_some_and(|re| re.is_match(resource))
    }
}

/// A permission as the PDP reads it.
#[derive(Debug, Clone, Queryable)]
pub struct Rule {
    pub action: Option<String>,
    pub resource: Option<String>,
    pub is_regex: bool,
    pub use_authorization_service_header: bool,
    pub authorization_service_header: Option<String>,
}

impl Rule {
    /// Steps 2 and 3 of 6.4 for one permission.
    pub fn matches(&self, cache: &PatternCache, q: &PdpQuestion<'_>) -> bool {
        let action = self
            .action
            .as_deref()
            .is_some_and(|a| a.eq_ignore_ascii_case(q.action));
        // A permission with only `xml` has no resource and never matches at this level.
        let resource = self.resource.as_deref().is_some_and(|r| {
            if self.is_regex {
                cache.is_match(r, q.resource)
            } else {
                r == q.resource
            }
        });
        let header = !self.use_authorization_service_header
            || matches!(
                (self.authorization_service_header.as_deref(), q.authorization_service_header),
                (Some(want), Some(got)) if want == got
            );
        action && resource && header
    }
}

/// The non-internal permissions of application `app` linked to any of `roles`.
pub fn rules(conn: &mut DbConn, app: &str, roles: &[String]) -> Result<Vec<Rule>, UserInfoError> {
    if roles.is_empty() {
        return Ok(Vec::new());
    }
    Ok(role_permissions::table
        .inner_join(permissions::table.on(permissions::id.eq(role_permissions::permission_id)))
        .filter(role_permissions::role_id.eq_any(roles))
        .filter(permissions::oauth_client_id.eq(app))
        .filter(permissions::is_internal.eq(false))
        .select((
            permissions::action,
            permissions::resource,
            permissions::is_regex,
            permissions::use_authorization_service_header,
            permissions::authorization_service_header,
        ))
        .load(conn)?)
}

/// 6.4: whether one of the roles permits the action on the resource in application `app`.
pub fn permits(
    conn: &mut DbConn,
    cache: &PatternCache,
    app: &str,
    roles: &[String],
    question: &PdpQuestion<'_>,
) -> Result<bool, UserInfoError> {
    Ok(rules(conn, app, roles)?
        .iter()
        .any(|rule| rule.matches(cache, question)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(action: &str, resource: &str, is_regex: bool) -> Rule {
        Rule {
            action: Some(action.to_owned()),
            resource: Some(resource.to_owned()),
            is_regex,
            use_authorization_service_header: false,
            authorization_service_header: None,
        }
    }

    fn ask<'a>(action: &'a str, resource: &'a str, header: Option<&'a str>) -> PdpQuestion<'a> {
        PdpQuestion {
            action,
            resource,
            authorization_service_header: header,
        }
    }

    #[test]
    fn regexes_are_unanchored_case_insensitive_and_broken_ones_match_nothing() {
        let cache = PatternCache::new();
        let r = rule("GET", "^/v2/entities/.*", true);
        assert!(r.matches(&cache, &ask("get", "/V2/Entities/x", None)));
        assert!(!r.matches(&cache, &ask("GET", "/x/v2/entities/", None)));
        assert!(rule("GET", "entities", true).matches(&cache, &ask("GET", "/v2/entities/1", None)));
        assert!(!rule("GET", "([", true).matches(&cache, &ask("GET", "([", None)));
        assert!(!rule("GET", "/a", false).matches(&cache, &ask("GET", "/A", None)));
        assert!(!rule("GETX", "/a", false).matches(&cache, &ask("GET", "/a", None)));
    }

    #[test]
    fn the_header_must_be_equal_when_the_permission_uses_it() {
        let cache = PatternCache::new();
        let mut r = rule("GET", "/a", false);
        r.use_authorization_service_header = true;
        r.authorization_service_header = Some("tenant".to_owned());
        assert!(r.matches(&cache, &ask("GET", "/a", Some("tenant"))));
        assert!(!r.matches(&cache, &ask("GET", "/a", Some("Tenant"))));
        assert!(!r.matches(&cache, &ask("GET", "/a", None)));
    }

    #[test]
    fn the_cache_is_bounded() {
        let cache = PatternCache::new();
        for i in 0..(CACHE_CAPACITY + 10) {
            assert!(cache.is_match(&format!("x{i}"), &format!("ax{i}b")));
        }
        let len = cache.compiled.lock().map(|m| m.len()).unwrap_or(0);
        assert!(len <= CACHE_CAPACITY, "{len}");
    }
}
