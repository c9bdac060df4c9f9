//! Keyrock's JSON shapes (keyrock.md 1.5, 4.3). Every 2xx body is one of the types here or
//! beside its handler: the type that is serialized is the type `/openapi.json` describes.
//! A field that Keyrock sends as `null` is an `Option` serialized as `null`; a key that
//! Keyrock leaves out is skipped only where it says so.

use actix_web::HttpResponse;
use auth_core::users::User;
use keyrock_idm::applications::{Application, VisibleApplication};
use serde::Serialize;
use serde_json::Value;
use time::PrimitiveDateTime;
use utoipa::ToSchema;

pub use crate::wire_time::{ts, ts_db};

/// `200 OK` with `body`, which must be a documented schema type.
pub fn ok<T: Serialize + ToSchema>(body: &T) -> HttpResponse {
    HttpResponse::Ok().json(body)
}

/// `201 Created` with `body`, which must be a documented schema type.
pub fn created<T: Serialize + ToSchema>(body: &T) -> HttpResponse {
    HttpResponse::Created().json(body)
}

/// Declares a read shape (`$view`), the shape of its changed fields (`$changes`: each key
/// present only when the request changed it, with its value as the read shows it), and the
/// body of the PATCH that changes it (`$update`: `values_updated`, or Keyrock's no-change
/// message). One field list serves all three, so they cannot drift apart.
///
/// Every field of the read is required (an `Option` is sent as `null`, never left out); in
/// `$changes` a field is optional, and nullable only where the read's is.
macro_rules! view_with_changes {
    (
        $(#[$meta:meta])*
        pub struct $view:ident / $changes:ident / $update:ident { $($fields:tt)* }
    ) => {
        $crate::keyrock::views::view_with_changes!(
            @field [$(#[$meta])*] $view $changes $update [] $($fields)*
        );
    };
    // Sorts the fields one at a time: a nullable one (`Option<..>`) keeps its null in
    // `$changes`; any other gets `nullable = false` there.
    (@field $meta:tt $view:ident $changes:ident $update:ident [$($done:tt)*]
        $(#[$fmeta:meta])* pub $field:ident : Option<$inner:ty>, $($rest:tt)*
    ) => {
        $crate::keyrock::views::view_with_changes!(
            @field $meta $view $changes $update
            [$($done)* [[$(#[$fmeta])*] $field [Option<$inner>] []]] $($rest)*
        );
    };
    (@field $meta:tt $view:ident $changes:ident $update:ident [$($done:tt)*]
        $(#[$fmeta:meta])* pub $field:ident : $ty:ty, $($rest:tt)*
    ) => {
        $crate::keyrock::views::view_with_changes!(
            @field $meta $view $changes $update
            [$($done)* [[$(#[$fmeta])*] $field [$ty] [#[schema(nullable = false)]]]] $($rest)*
        );
    };
    (@field [$($meta:tt)*] $view:ident $changes:ident $update:ident
        [$([[$($fmeta:tt)*] $field:ident [$ty:ty] [$($not_null:tt)*]])*]
    ) => {
        $($meta)*
        #[derive(Debug, Clone, Serialize, ToSchema)]
        pub struct $view {
            $(
                $($fmeta)*
                #[schema(required)]
                pub $field: $ty,
            )*
        }

        #[doc = concat!("The fields of [`", stringify!($view), "`] that a PATCH changed, as the read shows them; unchanged fields are left out.")]
        #[derive(Debug, Clone, Default, Serialize, ToSchema)]
        pub struct $changes {
            $(
                $($fmeta)*
                #[serde(skip_serializing_if = "Option::is_none")]
                $($not_null)*
                pub $field: Option<$ty>,
            )*
        }

        #[doc = concat!("The 200 of a PATCH: `{\"values_updated\": ", stringify!($changes), "}`, or Keyrock's no-change message.")]
        #[derive(Debug, Clone, Serialize, ToSchema)]
        #[serde(untagged)]
        pub enum $update {
            Changed { values_updated: Box<$changes> },
            Unchanged($crate::keyrock::views::NoChange),
        }

        impl $view {
            /// The body of the PATCH that changed the fields named in `changed` (a changed
            /// field the read does not show, a password, counts but is not echoed).
            pub fn updated(self, changed: &[&str], kind: &str) -> $update {
                if changed.is_empty() {
                    return $update::Unchanged($crate::keyrock::views::NoChange::new(kind));
                }
                $update::Changed {
                    values_updated: Box::new($changes {
                        $( $field: changed.contains(&stringify!($field)).then_some(self.$field), )*
                    }),
                }
            }
        }
    };
}

pub(crate) use view_with_changes;

/// Keyrock's answer to a PATCH that changes nothing:
/// `{"message":"Request don't change the <kind> parameters","code":200,"title":"OK"}`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NoChange {
    #[schema(example = "Request don't change the user parameters")]
    pub message: String,
    /// Always 200.
    pub code: u16,
    /// Always `OK`.
    pub title: &'static str,
}

impl NoChange {
    pub fn new(kind: &str) -> NoChange {
        NoChange {
            message: format!("Request don't change the {kind} parameters"),
            code: 200,
            title: "OK",
        }
    }
}

/// `{"new_password"}`: a PEP proxy's or an IoT agent's new password, shown this once.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NewPassword {
    pub new_password: String,
}

fn opt_ts(t: Option<PrimitiveDateTime>) -> Option<String> {
    t.map(ts_db)
}

/// `extra` is stored as JSON text and returned as the JSON it was (`null` when unset).
fn extra(u: &User) -> Value {
    match u.extra.as_deref() {
        None => Value::Null,
        Some(text) => serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_owned())),
    }
}

// ---------------------------------------------------------------------------------------
// Users

/// A user in `GET /v1/users`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UserListEntry {
    pub id: String,
    pub username: String,
    pub email: String,
    pub enabled: bool,
    pub gravatar: bool,
    /// When the password was last set.
    #[schema(required)]
    pub date_password: Option<String>,
    #[schema(required)]
    pub description: Option<String>,
    #[schema(required)]
    pub website: Option<String>,
}

/// `GET /v1/users`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UserList {
    pub users: Vec<UserListEntry>,
}

view_with_changes! {
    /// A user as `GET /v1/users/{user_id}` shows it.
    pub struct UserView / UserChanges / UserUpdate {
        pub id: String,
        pub username: String,
        pub email: String,
        pub enabled: bool,
        pub admin: bool,
        pub image: String,
        pub gravatar: bool,
        /// When the password was last set.
        pub date_password: Option<String>,
        pub description: Option<String>,
        pub website: Option<String>,
        /// Any JSON the user was given (`null` when none).
        pub extra: Value,
    }
}

/// `GET /v1/users/{user_id}`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UserBody {
    pub user: UserView,
}

/// The user in the 201 of `POST /v1/users`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CreatedUser {
    pub id: String,
    pub username: String,
    pub email: String,
    #[schema(required)]
    pub description: Option<String>,
    #[schema(required)]
    pub website: Option<String>,
    pub image: String,
    pub gravatar: bool,
    pub enabled: bool,
    pub admin: bool,
    pub starters_tour_ended: bool,
    #[schema(required)]
    pub eidas_id: Option<String>,
    /// Any JSON the user was given (`null` when none).
    pub extra: Value,
    #[schema(required)]
    pub date_password: Option<String>,
}

/// The 201 of `POST /v1/users`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CreatedUserBody {
    pub user: CreatedUser,
}

pub fn user_list_entry(u: &User) -> UserListEntry {
    UserListEntry {
        id: u.id.clone(),
        username: u.username.clone(),
        email: u.email.clone(),
        enabled: u.enabled,
        gravatar: u.gravatar,
        date_password: opt_ts(u.date_password),
        description: u.description.clone(),
        website: u.website.clone(),
    }
}

pub fn user_full(u: &User) -> UserView {
    UserView {
        id: u.id.clone(),
        username: u.username.clone(),
        email: u.email.clone(),
        enabled: u.enabled,
        admin: u.admin,
        image: u.image.clone(),
        gravatar: u.gravatar,
        date_password: opt_ts(u.date_password),
        description: u.description.clone(),
        website: u.website.clone(),
        extra: extra(u),
    }
}

pub fn user_created(u: &User) -> CreatedUser {
    CreatedUser {
        id: u.id.clone(),
        username: u.username.clone(),
        email: u.email.clone(),
        description: u.description.clone(),
        website: u.website.clone(),
        image: u.image.clone(),
        gravatar: u.gravatar,
        enabled: u.enabled,
        admin: u.admin,
        starters_tour_ended: u.starters_tour_ended,
        eidas_id: u.eidas_id.clone(),
        extra: extra(u),
        date_password: opt_ts(u.date_password),
    }
}

/// The subset `GET /v1/auth/tokens` shows of a token's user.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TokenUser {
    pub id: String,
    pub username: String,
    pub email: String,
    #[schema(required)]
    pub date_password: Option<String>,
    pub enabled: bool,
    pub admin: bool,
}

pub fn token_user(u: &User) -> TokenUser {
    TokenUser {
        id: u.id.clone(),
        username: u.username.clone(),
        email: u.email.clone(),
        date_password: opt_ts(u.date_password),
        enabled: u.enabled,
        admin: u.admin,
    }
}

// ---------------------------------------------------------------------------------------
// Applications

/// The links of an application to its sub-collections.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ApplicationUrls {
    pub permissions_url: String,
    pub roles_url: String,
    pub users_url: String,
    pub pep_proxies_url: String,
    pub iot_agents_url: String,
    pub trusted_applications_url: String,
}

fn application_urls(id: &str) -> ApplicationUrls {
    let base = format!("/v1/applications/{id}");
    ApplicationUrls {
        permissions_url: format!("{base}/permissions"),
        roles_url: format!("{base}/roles"),
        users_url: format!("{base}/users"),
        pep_proxies_url: format!("{base}/pep_proxies"),
        iot_agents_url: format!("{base}/iot_agents"),
        trusted_applications_url: format!("{base}/trusted_applications"),
    }
}

/// `jwt_secret` only for a caller with permission 2.
fn jwt_secret(v: &VisibleApplication) -> Option<String> {
    if v.show_jwt_secret {
        v.app.jwt_secret.clone()
    } else {
        None
    }
}

view_with_changes! {
    /// An application as `GET /v1/applications/{application_id}` shows it. The list
    /// columns (`redirect_uri`, `grant_type`, `response_type`, `token_types`, `scope`) are
    /// comma-separated strings.
    pub struct ApplicationView / ApplicationChanges / ApplicationUpdate {
        pub id: String,
        pub name: String,
        pub description: Option<String>,
        /// Always null: the secret is stored as a digest only.
        pub secret: Option<String>,
        pub url: Option<String>,
        pub redirect_uri: Option<String>,
        pub redirect_sign_out_uri: Option<String>,
        pub image: String,
        pub grant_type: Option<String>,
        pub response_type: Option<String>,
        pub token_types: Option<String>,
        /// Shown only to a caller with permission 2 (null otherwise).
        pub jwt_secret: Option<String>,
        pub client_type: Option<String>,
        pub scope: Option<String>,
        /// Any JSON the application carries (`null` when none).
        pub extra: Option<Value>,
        pub urls: ApplicationUrls,
    }
}

/// `GET /v1/applications/{application_id}`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ApplicationBody {
    pub application: ApplicationView,
}

/// An application in `GET /v1/applications`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ApplicationListEntry {
    pub id: String,
    pub name: String,
    #[schema(required)]
    pub description: Option<String>,
    pub image: String,
    #[schema(required)]
    pub url: Option<String>,
    #[schema(required)]
    pub redirect_uri: Option<String>,
    #[schema(required)]
    pub redirect_sign_out_uri: Option<String>,
    #[schema(required)]
    pub grant_type: Option<String>,
    #[schema(required)]
    pub response_type: Option<String>,
    #[schema(required)]
    pub token_types: Option<String>,
    /// Shown only to a caller with permission 2 (null otherwise).
    #[schema(required)]
    pub jwt_secret: Option<String>,
    #[schema(required)]
    pub client_type: Option<String>,
    pub urls: ApplicationUrls,
}

/// `GET /v1/applications`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ApplicationList {
    pub applications: Vec<ApplicationListEntry>,
}

/// The application in the 201 of `POST /v1/applications`: the one response with the
/// plaintext secret.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CreatedApplication {
    pub id: String,
    pub secret: String,
    pub image: String,
    #[schema(required)]
    pub jwt_secret: Option<String>,
    pub name: String,
    #[schema(required)]
    pub description: Option<String>,
    #[schema(required)]
    pub redirect_uri: Option<String>,
    #[schema(required)]
    pub redirect_sign_out_uri: Option<String>,
    #[schema(required)]
    pub url: Option<String>,
    #[schema(required)]
    pub grant_type: Option<String>,
    #[schema(required)]
    pub response_type: Option<String>,
    #[schema(required)]
    pub token_types: Option<String>,
    #[schema(required)]
    pub scope: Option<String>,
}

/// The 201 of `POST /v1/applications`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CreatedApplicationBody {
    pub application: CreatedApplication,
}

/// `POST /v1/applications/{application_id}/reset_secret`: the new secret, shown this once.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ApplicationSecret {
    pub secret: String,
}

/// `GET /v1/applications/{id}`: `secret` is always null (stored as a digest only).
pub fn application_full(v: &VisibleApplication) -> ApplicationView {
    let a = &v.app;
    ApplicationView {
        id: a.id.clone(),
        name: a.name.clone(),
        description: a.description.clone(),
        secret: None,
        url: a.url.clone(),
        redirect_uri: a.redirect_uri.clone(),
        redirect_sign_out_uri: a.redirect_sign_out_uri.clone(),
        image: a.image.clone(),
        grant_type: a.grant_type.clone(),
        response_type: a.response_type.clone(),
        token_types: a.token_types.clone(),
        jwt_secret: jwt_secret(v),
        client_type: a.client_type.clone(),
        scope: a.scope.clone(),
        extra: a
            .extra
            .as_deref()
            .and_then(|t| serde_json::from_str::<Value>(t).ok()),
        urls: application_urls(&a.id),
    }
}

pub fn application_list_entry(v: &VisibleApplication) -> ApplicationListEntry {
    let a = &v.app;
    ApplicationListEntry {
        id: a.id.clone(),
        name: a.name.clone(),
        description: a.description.clone(),
        image: a.image.clone(),
        url: a.url.clone(),
        redirect_uri: a.redirect_uri.clone(),
        redirect_sign_out_uri: a.redirect_sign_out_uri.clone(),
        grant_type: a.grant_type.clone(),
        response_type: a.response_type.clone(),
        token_types: a.token_types.clone(),
        jwt_secret: jwt_secret(v),
        client_type: a.client_type.clone(),
        urls: application_urls(&a.id),
    }
}

pub fn application_created(a: &Application, secret: &str) -> CreatedApplication {
    CreatedApplication {
        id: a.id.clone(),
        secret: secret.to_owned(),
        image: a.image.clone(),
        jwt_secret: a.jwt_secret.clone(),
        name: a.name.clone(),
        description: a.description.clone(),
        redirect_uri: a.redirect_uri.clone(),
        redirect_sign_out_uri: a.redirect_sign_out_uri.clone(),
        url: a.url.clone(),
        grant_type: a.grant_type.clone(),
        response_type: a.response_type.clone(),
        token_types: a.token_types.clone(),
        scope: a.scope.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_have_millis_and_z() {
        let t = time::macros::datetime!(2018-03-20 09:31:07.104_999 UTC);
        assert_eq!(ts(t), "2018-03-20T09:31:07.104Z");
    }
}
