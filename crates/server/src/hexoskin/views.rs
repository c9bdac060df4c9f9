//! The Hexoskin wire objects (hexoskin-bundles.md §2): every reference embedded in full,
//! `resource_uri` relative and canonical, and Tastypie's list envelope.

use bundle_permissions::bundles::Bundle;
use bundle_permissions::permissions::BundlePermission;
use bundle_permissions::requests::PermissionRequest;
use bundle_permissions::users::{Account, UserObject};
use bundle_permissions::Page;
use serde::Serialize;
use time::OffsetDateTime;
use utoipa::ToSchema;

/// A user (§2.1).
#[derive(Debug, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HexoskinUser {
    pub id: i64,
    pub username: String,
    pub email: String,
    /// Always `""`.
    pub first_name: String,
    /// Always `""`.
    pub last_name: String,
    #[schema(example = "/api/user/7/")]
    pub resource_uri: String,
}

pub fn user(u: &UserObject) -> HexoskinUser {
    HexoskinUser {
        id: u.id,
        username: u.username.clone(),
        email: u.email.clone(),
        first_name: String::new(),
        last_name: String::new(),
        resource_uri: format!("/api/user/{}/", u.id),
    }
}

/// The caller's account (§2.2): the user fields and the admin flag.
#[derive(Debug, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HexoskinAccount {
    pub id: i64,
    pub username: String,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub resource_uri: String,
    /// The Keyrock admin flag.
    pub is_staff: bool,
}

pub fn account(a: &Account) -> HexoskinAccount {
    let u = user(&a.user);
    HexoskinAccount {
        id: u.id,
        username: u.username,
        email: u.email,
        first_name: u.first_name,
        last_name: u.last_name,
        resource_uri: u.resource_uri,
        is_staff: a.is_staff,
    }
}

/// A bundle (§2.3).
#[derive(Debug, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HexoskinBundle {
    pub id: i64,
    pub name: String,
    pub description: String,
    /// `read` and/or `write`, in that order.
    #[schema(example = json!(["read"]))]
    pub permissions: Vec<String>,
    #[schema(example = "/api/bundle/1/")]
    pub resource_uri: String,
}

pub fn bundle(b: &Bundle) -> HexoskinBundle {
    HexoskinBundle {
        id: b.id,
        name: b.name.clone(),
        description: b.description.clone(),
        permissions: b
            .permissions
            .iter()
            .map(|p| p.as_str().to_owned())
            .collect(),
        resource_uri: bundle_uri(b.id),
    }
}

pub fn bundle_uri(id: i64) -> String {
    format!("/api/bundle/{id}/")
}

/// A bundle permission (§2.4).
#[derive(Debug, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HexoskinBundlePermission {
    pub id: i64,
    pub bundle: HexoskinBundle,
    pub user_allowed: HexoskinUser,
    pub user_target: HexoskinUser,
    pub name: Option<String>,
    #[schema(example = "/api/bundle_permission/3/")]
    pub resource_uri: String,
}

pub fn permission(p: &BundlePermission) -> HexoskinBundlePermission {
    HexoskinBundlePermission {
        id: p.id,
        bundle: bundle(&p.bundle),
        user_allowed: user(&p.user_allowed),
        user_target: user(&p.user_target),
        name: p.name.clone(),
        resource_uri: permission_uri(p.id),
    }
}

pub fn permission_uri(id: i64) -> String {
    format!("/api/bundle_permission/{id}/")
}

/// A permission request (§2.5); the token is never part of it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HexoskinPermissionRequest {
    pub id: i64,
    #[schema(example = "/api/bundle_permission_request/4/")]
    pub resource_uri: String,
    pub bundle: HexoskinBundle,
    pub user_allowed: HexoskinUser,
    pub user_target: HexoskinUser,
    pub redeem_url: Option<String>,
    /// Seconds until the token expires; 0 once expired or redeemed.
    pub ttl: i64,
    /// `pending`, `redeemed` or `expired`.
    #[schema(example = "pending")]
    pub status: String,
    pub email_sent: bool,
}

pub fn request(r: &PermissionRequest, now: OffsetDateTime) -> HexoskinPermissionRequest {
    HexoskinPermissionRequest {
        id: r.id,
        resource_uri: request_uri(r.id),
        bundle: bundle(&r.bundle),
        user_allowed: user(&r.user_allowed),
        user_target: user(&r.user_target),
        redeem_url: r.redeem_url.clone(),
        ttl: r.ttl(now),
        status: r.status(now).as_str().to_owned(),
        email_sent: r.email_sent,
    }
}

pub fn request_uri(id: i64) -> String {
    format!("/api/bundle_permission_request/{id}/")
}

/// Tastypie's `meta` (§1.4).
#[derive(Debug, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ListMeta {
    pub limit: i64,
    /// The next page's relative URI, or null on the last page.
    pub next: Option<String>,
    pub offset: i64,
    /// The previous page's relative URI, or null on the first.
    pub previous: Option<String>,
    pub total_count: i64,
}

/// Declares a list envelope type for an object type (one schema per resource).
macro_rules! list_type {
    ($name:ident, $object:ty) => {
        /// A list envelope (§1.4).
        #[derive(Debug, Serialize, ToSchema)]
        #[serde(deny_unknown_fields)]
        pub struct $name {
            pub meta: ListMeta,
            pub objects: Vec<$object>,
        }

        impl From<(ListMeta, Vec<$object>)> for $name {
            fn from((meta, objects): (ListMeta, Vec<$object>)) -> Self {
                $name { meta, objects }
            }
        }
    };
}

list_type!(HexoskinUserList, HexoskinUser);
list_type!(HexoskinAccountList, HexoskinAccount);
list_type!(HexoskinBundleList, HexoskinBundle);
list_type!(HexoskinBundlePermissionList, HexoskinBundlePermission);
list_type!(HexoskinPermissionRequestList, HexoskinPermissionRequest);

/// The envelope of a page, its objects rendered by `view`; `link(offset)` gives the
/// relative URI of the page at `offset`.
pub fn list<T, V, L>(page: &Page<T>, view: impl Fn(&T) -> V, link: impl Fn(i64) -> String) -> L
where
    L: From<(ListMeta, Vec<V>)>,
{
    let (limit, offset, total) = (page.paging.limit, page.paging.offset, page.total);
    let next = (offset.saturating_add(limit) < total).then(|| link(offset + limit));
    let previous = (offset > 0).then(|| link((offset - limit).max(0)));
    L::from((
        ListMeta {
            limit,
            next,
            offset,
            previous,
            total_count: total,
        },
        page.items.iter().map(view).collect(),
    ))
}

#[cfg(test)]
mod tests {
    use bundle_permissions::Paging;

    use super::*;

    fn meta(limit: u64, offset: u64, total: i64) -> ListMeta {
        let page = Page {
            paging: Paging::new(Some(limit), Some(offset)),
            total,
            items: Vec::<i64>::new(),
        };
        let list: HexoskinUserList = list(&page, |_| unreachable!(), |o| format!("o={o}"));
        list.meta
    }

    #[test]
    fn next_and_previous_follow_offset_and_limit() {
        let m = meta(20, 0, 23);
        assert_eq!((m.next.as_deref(), m.previous), (Some("o=20"), None));
        let m = meta(20, 20, 23);
        assert_eq!((m.next, m.previous.as_deref()), (None, Some("o=0")));
        let m = meta(10, 5, 23);
        assert_eq!(
            (m.next.as_deref(), m.previous.as_deref()),
            (Some("o=15"), Some("o=0"))
        );
        let m = meta(10, 30, 23);
        assert_eq!((m.next, m.previous.as_deref()), (None, Some("o=20")));
        let m = meta(20, 0, 20);
        assert_eq!(m.next, None);
    }
}
