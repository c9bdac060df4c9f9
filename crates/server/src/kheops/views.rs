//! KHEOPS JSON shapes (kheops.md 4.2, 5.3, 5.8): each answer is one typed body, its
//! `ToSchema` the schema `/openapi.json` lists. Absent values are omitted, never null.
//!
//! Fields are declared in alphabetical order: the order the bodies had when they were
//! built as `serde_json` maps, so the bytes on the wire did not change.

use capabilities::albums::{AlbumView, Member};
use capabilities::tokens::{CapabilityView, Introspection};
use capabilities::users::UserInfo;
use capabilities::KheopsError;
use serde::Serialize;
use time::PrimitiveDateTime;
use utoipa::openapi::schema::{Object, Type};
use utoipa::ToSchema;

use super::KheopsApiError;
use crate::wire_time::ts_db;

/// A time as KHEOPS answers it: RFC 3339 in UTC with milliseconds and `Z`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(transparent)]
#[schema(value_type = String, format = DateTime, example = "2018-10-22T14:20:59.790Z")]
pub struct KheopsTime(String);

fn time(t: PrimitiveDateTime) -> KheopsTime {
    KheopsTime(ts_db(t))
}

/// The user object of members, `created_by` and `revoked_by` (kheops.md 4.2).
#[derive(Debug, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KheopsUser {
    pub email: String,
    /// The username up to its first space.
    pub first_name: String,
    /// The username after its first space, or empty.
    pub last_name: String,
    /// The username.
    pub name: String,
    /// The Tessera user id.
    pub sub: String,
}

/// A member of an album: the user object and `is_admin`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KheopsMember {
    pub email: String,
    pub first_name: String,
    pub is_admin: bool,
    pub last_name: String,
    pub name: String,
    pub sub: String,
}

/// An album as a member sees it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KheopsAlbumFull {
    pub add_series: bool,
    pub add_user: bool,
    /// The album id (the same value as `id`).
    pub album_id: String,
    pub created_time: KheopsTime,
    pub delete_series: bool,
    pub description: String,
    pub download_series: bool,
    pub id: String,
    /// Whether the caller administers the album.
    pub is_admin: bool,
    pub last_event_time: KheopsTime,
    pub name: String,
    pub number_of_users: i64,
    pub send_series: bool,
    /// The members, sorted by email, with `includeUsers=true` only.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub users: Option<Vec<KheopsMember>>,
    pub write_comments: bool,
}

/// An album as an album-scope capability token with read permission sees it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KheopsAlbumReduced {
    pub album_id: String,
    pub description: String,
    pub id: String,
    pub name: String,
}

/// An album: in full for members, reduced for an album-scope token.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum KheopsAlbum {
    Full(KheopsAlbumFull),
    Reduced(KheopsAlbumReduced),
}

/// The album of an album-scope token.
#[derive(Debug, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KheopsCapabilityAlbum {
    pub album_id: String,
    pub id: String,
    /// The album's current name.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub name: Option<String>,
}

/// Always `"Bearer"`.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
pub enum KheopsTokenType {
    Bearer,
}

/// A capability token as every answer but its creation shows it: never its secret. The
/// permissions and `album` are there for album-scope tokens only.
#[derive(Debug, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KheopsCapability {
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub album: Option<KheopsCapabilityAlbum>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub appropriate_permission: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub created_by: Option<KheopsUser>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub download_permission: Option<bool>,
    pub expiration_time: KheopsTime,
    pub id: String,
    pub issued_at_time: KheopsTime,
    /// Once the token was used.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub last_used: Option<KheopsTime>,
    pub not_before_time: KheopsTime,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub read_permission: Option<bool>,
    /// When revoked.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub revoke_time: Option<KheopsTime>,
    pub revoked: bool,
    /// When revoked (and the revoking user still exists).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub revoked_by: Option<KheopsUser>,
    /// `user` or `album`.
    #[schema(example = "album")]
    pub scope_type: String,
    pub title: String,
    pub token_type: KheopsTokenType,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub write_permission: Option<bool>,
}

/// A capability token as its creation answers it: with its secret, shown this once
/// (`secret` and `access_token` are the same value).
#[derive(Debug, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KheopsNewCapability {
    pub access_token: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub album: Option<KheopsCapabilityAlbum>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub appropriate_permission: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub created_by: Option<KheopsUser>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub download_permission: Option<bool>,
    pub expiration_time: KheopsTime,
    pub id: String,
    pub issued_at_time: KheopsTime,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub last_used: Option<KheopsTime>,
    pub not_before_time: KheopsTime,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub read_permission: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub revoke_time: Option<KheopsTime>,
    pub revoked: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub revoked_by: Option<KheopsUser>,
    #[schema(example = "album")]
    pub scope_type: String,
    /// 22 alphanumerics.
    pub secret: String,
    pub title: String,
    pub token_type: KheopsTokenType,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub write_permission: Option<bool>,
}

/// A boolean that is always `value`, for the `active` discriminant.
fn constant_bool(value: bool) -> Object {
    Object::builder()
        .schema_type(Type::Boolean)
        .enum_values(Some([value]))
        .build()
}

fn always_true() -> Object {
    constant_bool(true)
}

fn always_false() -> Object {
    constant_bool(false)
}

/// An active token as introspection reports it (kheops.md 5.8); times in epoch seconds.
#[derive(Debug, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KheopsActiveToken {
    #[schema(schema_with = always_true)]
    pub active: bool,
    /// The album of an album-scope token.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub album_id: Option<String>,
    /// The token's id.
    pub cap_token: String,
    pub exp: i64,
    pub iat: i64,
    pub nbf: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, example = "read downloadbutton")]
    pub scope: Option<String>,
    /// The creator's user id.
    pub sub: String,
}

/// What introspection answers for anything but an active token: `{"active":false}`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KheopsInactiveToken {
    #[schema(schema_with = always_false)]
    pub active: bool,
}

/// The introspection answer.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum KheopsIntrospection {
    Active(KheopsActiveToken),
    Inactive(KheopsInactiveToken),
}

pub fn user(u: &UserInfo) -> KheopsUser {
    KheopsUser {
        email: u.email.clone(),
        first_name: u.first_name().to_owned(),
        last_name: u.last_name().to_owned(),
        name: u.name.clone(),
        sub: u.sub.clone(),
    }
}

pub fn member(m: &Member) -> KheopsMember {
    let u = &m.user;
    KheopsMember {
        email: u.email.clone(),
        first_name: u.first_name().to_owned(),
        is_admin: m.is_admin,
        last_name: u.last_name().to_owned(),
        name: u.name.clone(),
        sub: u.sub.clone(),
    }
}

/// An album as the principal sees it: in full for members, reduced for album tokens.
pub fn album(view: &AlbumView) -> KheopsAlbum {
    match view {
        AlbumView::Reduced(a) => KheopsAlbum::Reduced(KheopsAlbumReduced {
            album_id: a.id.clone(),
            description: a.description.clone(),
            id: a.id.clone(),
            name: a.name.clone(),
        }),
        AlbumView::Full {
            album: a,
            number_of_users,
            is_admin,
            users,
        } => KheopsAlbum::Full(KheopsAlbumFull {
            add_series: a.add_series_permission,
            add_user: a.add_user_permission,
            album_id: a.id.clone(),
            created_time: time(a.created_time),
            delete_series: a.delete_series_permission,
            description: a.description.clone(),
            download_series: a.download_series_permission,
            id: a.id.clone(),
            is_admin: *is_admin,
            last_event_time: time(a.last_event_time),
            name: a.name.clone(),
            number_of_users: *number_of_users,
            send_series: a.send_series_permission,
            users: users.as_ref().map(|u| u.iter().map(member).collect()),
            write_comments: a.write_comments_permission,
        }),
    }
}

/// An album of the routes only members reach (create, update, list): always in full.
pub fn member_album(view: &AlbumView) -> Result<KheopsAlbumFull, KheopsApiError> {
    match album(view) {
        KheopsAlbum::Full(full) => Ok(full),
        KheopsAlbum::Reduced(_) => Err(KheopsApiError::Domain(KheopsError::Internal(
            "a member's album came back reduced".to_owned(),
        ))),
    }
}

/// The token as every answer but its creation shows it.
pub fn capability(view: &CapabilityView) -> KheopsCapability {
    let c = &view.capability;
    let album_scope = c.album_id.is_some();
    let permission = |value: bool| album_scope.then_some(value);
    KheopsCapability {
        album: c.album_id.as_ref().map(|id| KheopsCapabilityAlbum {
            album_id: id.clone(),
            id: id.clone(),
            name: view.album_name.clone(),
        }),
        appropriate_permission: permission(c.appropriate_permission),
        created_by: view.created_by.as_ref().map(user),
        download_permission: permission(c.download_permission),
        expiration_time: time(c.expiration_time),
        id: c.id.clone(),
        issued_at_time: time(c.issued_at_time),
        last_used: c.last_used.map(time),
        not_before_time: time(c.not_before_time),
        read_permission: permission(c.read_permission),
        revoke_time: c.revoke_time.map(time),
        revoked: c.revoke_time.is_some(),
        revoked_by: view.revoked_by.as_ref().map(user),
        scope_type: c.scope_type.clone(),
        title: c.title.clone(),
        token_type: KheopsTokenType::Bearer,
        write_permission: permission(c.write_permission),
    }
}

/// The token with its secret, for the create answer only.
pub fn new_capability(view: &CapabilityView, secret: &str) -> KheopsNewCapability {
    let KheopsCapability {
        album,
        appropriate_permission,
        created_by,
        download_permission,
        expiration_time,
        id,
        issued_at_time,
        last_used,
        not_before_time,
        read_permission,
        revoke_time,
        revoked,
        revoked_by,
        scope_type,
        title,
        token_type,
        write_permission,
    } = capability(view);
    KheopsNewCapability {
        access_token: secret.to_owned(),
        album,
        appropriate_permission,
        created_by,
        download_permission,
        expiration_time,
        id,
        issued_at_time,
        last_used,
        not_before_time,
        read_permission,
        revoke_time,
        revoked,
        revoked_by,
        scope_type,
        secret: secret.to_owned(),
        title,
        token_type,
        write_permission,
    }
}

pub fn introspection(result: &Option<Introspection>) -> KheopsIntrospection {
    let Some(i) = result else {
        return KheopsIntrospection::Inactive(KheopsInactiveToken { active: false });
    };
    KheopsIntrospection::Active(KheopsActiveToken {
        active: true,
        album_id: i.album_id.clone(),
        cap_token: i.cap_token.clone(),
        exp: i.exp,
        iat: i.iat,
        nbf: i.nbf,
        scope: i.scope.clone(),
        sub: i.sub.clone(),
    })
}

#[cfg(test)]
mod tests {
    //! The exact bytes of each shape: the ones the `serde_json` maps produced before the
    //! bodies were typed (keys in alphabetical order, absent values omitted).

    use capabilities::albums::Album;
    use capabilities::tokens::Capability;
    use time::macros::datetime;

    use super::*;

    fn alice() -> UserInfo {
        UserInfo {
            sub: "u-alice".to_owned(),
            email: "alice@test.com".to_owned(),
            name: "Alice Ann Smith".to_owned(),
        }
    }

    fn bob() -> UserInfo {
        UserInfo {
            sub: "u-bob".to_owned(),
            email: "bob@test.com".to_owned(),
            name: "bob".to_owned(),
        }
    }

    fn an_album() -> Album {
        Album {
            id: "AlbumId001".to_owned(),
            name: "Study".to_owned(),
            description: "".to_owned(),
            created_time: datetime!(2018-10-22 14:20:59.790),
            last_event_time: datetime!(2018-10-23 00:00:00),
            add_user_permission: true,
            download_series_permission: true,
            send_series_permission: false,
            delete_series_permission: false,
            add_series_permission: true,
            write_comments_permission: true,
        }
    }

    fn a_capability(album: Option<&str>) -> Capability {
        Capability {
            id: "CapId00001".to_owned(),
            secret_sha256: "digest".to_owned(),
            title: "viewer".to_owned(),
            scope_type: if album.is_some() { "album" } else { "user" }.to_owned(),
            album_id: album.map(str::to_owned),
            user_id: "u-alice".to_owned(),
            read_permission: true,
            write_permission: false,
            download_permission: true,
            appropriate_permission: false,
            issued_at_time: datetime!(2021-06-09 17:30:20.5),
            not_before_time: datetime!(2021-06-09 17:30:20.5),
            expiration_time: datetime!(2021-06-12 17:30:20.5),
            last_used: None,
            revoke_time: None,
            revoked_by: None,
            updated_time: datetime!(2021-06-09 17:30:20.5),
        }
    }

    fn wire<T: Serialize>(value: &T) -> String {
        serde_json::to_string(value).unwrap()
    }

    #[test]
    fn albums_in_full_with_members_and_reduced() {
        let full = AlbumView::Full {
            album: an_album(),
            number_of_users: 2,
            is_admin: true,
            users: Some(vec![
                Member {
                    user: alice(),
                    is_admin: true,
                },
                Member {
                    user: bob(),
                    is_admin: false,
                },
            ]),
        };
        assert_eq!(
            wire(&album(&full)),
            concat!(
                r#"{"add_series":true,"add_user":true,"album_id":"AlbumId001","#,
                r#""created_time":"2018-10-22T14:20:59.790Z","delete_series":false,"#,
                r#""description":"","download_series":true,"id":"AlbumId001","is_admin":true,"#,
                r#""last_event_time":"2018-10-23T00:00:00.000Z","name":"Study","#,
                r#""number_of_users":2,"send_series":false,"users":["#,
                r#"{"email":"alice@test.com","first_name":"Alice","is_admin":true,"#,
                r#""last_name":"Ann Smith","name":"Alice Ann Smith","sub":"u-alice"},"#,
                r#"{"email":"bob@test.com","first_name":"bob","is_admin":false,"#,
                r#""last_name":"","name":"bob","sub":"u-bob"}],"write_comments":true}"#
            )
        );
        let listed = AlbumView::Full {
            album: an_album(),
            number_of_users: 1,
            is_admin: false,
            users: None,
        };
        let body = wire(&member_album(&listed).unwrap());
        assert!(!body.contains(r#""users""#), "{body}");
        assert_eq!(
            wire(&album(&AlbumView::Reduced(an_album()))),
            r#"{"album_id":"AlbumId001","description":"","id":"AlbumId001","name":"Study"}"#
        );
        assert!(member_album(&AlbumView::Reduced(an_album())).is_err());
    }

    #[test]
    fn capabilities_with_and_without_their_secret() {
        let mut c = a_capability(Some("AlbumId001"));
        c.last_used = Some(datetime!(2021-06-10 08:00:00));
        c.revoke_time = Some(datetime!(2021-06-11 08:00:00.001));
        let view = CapabilityView {
            capability: c,
            album_name: Some("Study".to_owned()),
            created_by: Some(alice()),
            revoked_by: Some(bob()),
        };
        let alice_json = r#"{"email":"alice@test.com","first_name":"Alice","last_name":"Ann Smith","name":"Alice Ann Smith","sub":"u-alice"}"#;
        let bob_json = r#"{"email":"bob@test.com","first_name":"bob","last_name":"","name":"bob","sub":"u-bob"}"#;
        assert_eq!(
            wire(&capability(&view)),
            format!(
                concat!(
                    r#"{{"album":{{"album_id":"AlbumId001","id":"AlbumId001","name":"Study"}},"#,
                    r#""appropriate_permission":false,"created_by":{},"download_permission":true,"#,
                    r#""expiration_time":"2021-06-12T17:30:20.500Z","id":"CapId00001","#,
                    r#""issued_at_time":"2021-06-09T17:30:20.500Z","last_used":"2021-06-10T08:00:00.000Z","#,
                    r#""not_before_time":"2021-06-09T17:30:20.500Z","read_permission":true,"#,
                    r#""revoke_time":"2021-06-11T08:00:00.001Z","revoked":true,"revoked_by":{},"#,
                    r#""scope_type":"album","title":"viewer","token_type":"Bearer","write_permission":false}}"#
                ),
                alice_json, bob_json
            )
        );
        let view = CapabilityView {
            capability: a_capability(None),
            album_name: None,
            created_by: Some(alice()),
            revoked_by: None,
        };
        assert_eq!(
            wire(&new_capability(&view, "S3cretS3cretS3cretS3cr")),
            format!(
                concat!(
                    r#"{{"access_token":"S3cretS3cretS3cretS3cr","created_by":{},"#,
                    r#""expiration_time":"2021-06-12T17:30:20.500Z","id":"CapId00001","#,
                    r#""issued_at_time":"2021-06-09T17:30:20.500Z","#,
                    r#""not_before_time":"2021-06-09T17:30:20.500Z","revoked":false,"#,
                    r#""scope_type":"user","secret":"S3cretS3cretS3cretS3cr","title":"viewer","#,
                    r#""token_type":"Bearer"}}"#
                ),
                alice_json
            )
        );
        // An album token whose album name is unknown, created by a deleted user.
        let view = CapabilityView {
            capability: a_capability(Some("AlbumId001")),
            album_name: None,
            created_by: None,
            revoked_by: None,
        };
        let body = wire(&capability(&view));
        assert!(
            body.starts_with(r#"{"album":{"album_id":"AlbumId001","id":"AlbumId001"},"#),
            "{body}"
        );
        assert!(
            !body.contains("created_by") && !body.contains("null"),
            "{body}"
        );
    }

    #[test]
    fn introspection_active_and_inactive() {
        assert_eq!(wire(&introspection(&None)), r#"{"active":false}"#);
        let active = Introspection {
            sub: "u-alice".to_owned(),
            scope: Some("read".to_owned()),
            cap_token: "CapId00001".to_owned(),
            album_id: Some("AlbumId001".to_owned()),
            exp: 3,
            iat: 1,
            nbf: 2,
        };
        assert_eq!(
            wire(&introspection(&Some(active.clone()))),
            r#"{"active":true,"album_id":"AlbumId001","cap_token":"CapId00001","exp":3,"iat":1,"nbf":2,"scope":"read","sub":"u-alice"}"#
        );
        let user_scope = Introspection {
            scope: None,
            album_id: None,
            ..active
        };
        assert_eq!(
            wire(&introspection(&Some(user_scope))),
            r#"{"active":true,"cap_token":"CapId00001","exp":3,"iat":1,"nbf":2,"sub":"u-alice"}"#
        );
    }
}
