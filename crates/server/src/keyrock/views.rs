//! Keyrock's JSON shapes (keyrock.md 1.5, 4.3).

use auth_core::users::User;
use keyrock_idm::applications::{Application, VisibleApplication};
use serde_json::{json, Value};
use time::PrimitiveDateTime;

pub use crate::wire_time::{ts, ts_db};

fn opt_ts(t: Option<PrimitiveDateTime>) -> Value {
    t.map(|t| Value::String(ts_db(t))).unwrap_or(Value::Null)
}

/// `extra` is stored as JSON text and returned as the JSON it was.
fn extra(u: &User) -> Value {
    match u.extra.as_deref() {
        None => Value::Null,
        Some(text) => serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_owned())),
    }
}

pub fn user_list_entry(u: &User) -> Value {
    json!({
        "id": u.id,
        "username": u.username,
        "email": u.email,
        "enabled": u.enabled,
        "gravatar": u.gravatar,
        "date_password": opt_ts(u.date_password),
        "description": u.description,
        "website": u.website,
    })
}

pub fn user_full(u: &User) -> Value {
    json!({
        "id": u.id,
        "username": u.username,
        "email": u.email,
        "enabled": u.enabled,
        "admin": u.admin,
        "image": u.image,
        "gravatar": u.gravatar,
        "date_password": opt_ts(u.date_password),
        "description": u.description,
        "website": u.website,
        "extra": extra(u),
    })
}

pub fn user_created(u: &User) -> Value {
    json!({
        "id": u.id,
        "username": u.username,
        "email": u.email,
        "description": u.description,
        "website": u.website,
        "image": u.image,
        "gravatar": u.gravatar,
        "enabled": u.enabled,
        "admin": u.admin,
        "starters_tour_ended": u.starters_tour_ended,
        "eidas_id": u.eidas_id,
        "extra": extra(u),
        "date_password": opt_ts(u.date_password),
    })
}

/// The subset `GET /v1/auth/tokens` shows of a token's user.
pub fn token_user(u: &User) -> Value {
    json!({
        "id": u.id,
        "username": u.username,
        "email": u.email,
        "date_password": opt_ts(u.date_password),
        "enabled": u.enabled,
        "admin": u.admin,
    })
}

/// `values_updated` for the changed fields, encoded as in the GET response; or Keyrock's
/// "Request don't change ..." message when nothing changed. A changed field the GET
/// response does not show (a password) counts as a change but is not echoed.
pub fn values_updated(full: &Value, changed: &[&str], kind: &str) -> Value {
    if changed.is_empty() {
        return json!({
            "message": format!("Request don't change the {kind} parameters"),
            "code": 200,
            "title": "OK",
        });
    }
    let mut out = serde_json::Map::new();
    for field in changed {
        if let Some(value) = full.get(*field) {
            out.insert((*field).to_owned(), value.clone());
        }
    }
    json!({ "values_updated": out })
}

/// A comma-separated list column as Keyrock returns it (a string, or null).
fn csv(v: &Option<String>) -> Value {
    v.as_ref()
        .map(|s| Value::String(s.clone()))
        .unwrap_or(Value::Null)
}

fn application_urls(id: &str) -> Value {
    let base = format!("/v1/applications/{id}");
    json!({
        "permissions_url": format!("{base}/permissions"),
        "roles_url": format!("{base}/roles"),
        "users_url": format!("{base}/users"),
        "pep_proxies_url": format!("{base}/pep_proxies"),
        "iot_agents_url": format!("{base}/iot_agents"),
        "trusted_applications_url": format!("{base}/trusted_applications"),
    })
}

fn jwt_secret(v: &VisibleApplication) -> Value {
    if v.show_jwt_secret {
        csv(&v.app.jwt_secret)
    } else {
        Value::Null
    }
}

/// `GET /v1/applications/{id}`: `secret` is always null (stored as a digest only).
pub fn application_full(v: &VisibleApplication) -> Value {
    let a = &v.app;
    json!({
        "id": a.id,
        "name": a.name,
        "description": a.description,
        "secret": null,
        "url": a.url,
        "redirect_uri": csv(&a.redirect_uri),
        "redirect_sign_out_uri": a.redirect_sign_out_uri,
        "image": a.image,
        "grant_type": csv(&a.grant_type),
        "response_type": csv(&a.response_type),
        "token_types": csv(&a.token_types),
        "jwt_secret": jwt_secret(v),
        "client_type": a.client_type,
        "scope": csv(&a.scope),
        "extra": a.extra.as_deref().and_then(|t| serde_json::from_str::<Value>(t).ok()),
        "urls": application_urls(&a.id),
    })
}

pub fn application_list_entry(v: &VisibleApplication) -> Value {
    let a = &v.app;
    json!({
        "id": a.id,
        "name": a.name,
        "description": a.description,
        "image": a.image,
        "url": a.url,
        "redirect_uri": csv(&a.redirect_uri),
        "redirect_sign_out_uri": a.redirect_sign_out_uri,
        "grant_type": csv(&a.grant_type),
        "response_type": csv(&a.response_type),
        "token_types": csv(&a.token_types),
        "jwt_secret": jwt_secret(v),
        "client_type": a.client_type,
        "urls": application_urls(&a.id),
    })
}

/// The 201 of `POST /v1/applications`: the one response with the plaintext secret.
pub fn application_created(a: &Application, secret: &str) -> Value {
    json!({
        "id": a.id,
        "secret": secret,
        "image": a.image,
        "jwt_secret": a.jwt_secret,
        "name": a.name,
        "description": a.description,
        "redirect_uri": csv(&a.redirect_uri),
        "redirect_sign_out_uri": a.redirect_sign_out_uri,
        "url": a.url,
        "grant_type": csv(&a.grant_type),
        "response_type": csv(&a.response_type),
        "token_types": csv(&a.token_types),
        "scope": csv(&a.scope),
    })
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
