//! KHEOPS JSON shapes (kheops.md 4.2, 5.3, 5.8). Absent values are omitted, never null.

use capabilities::albums::{AlbumView, Member};
use capabilities::tokens::{CapabilityView, Introspection};
use capabilities::users::UserInfo;
use serde_json::{json, Map, Value};
use time::PrimitiveDateTime;

use crate::wire_time::ts_db;

fn time(t: PrimitiveDateTime) -> Value {
    Value::String(ts_db(t))
}

pub fn user(u: &UserInfo) -> Value {
    json!({
        "email": u.email,
        "sub": u.sub,
        "name": u.name,
        "first_name": u.first_name(),
        "last_name": u.last_name(),
    })
}

pub fn member(m: &Member) -> Value {
    let mut v = user(&m.user);
    v["is_admin"] = Value::Bool(m.is_admin);
    v
}

pub fn album(view: &AlbumView) -> Value {
    match view {
        AlbumView::Reduced(a) => json!({
            "album_id": a.id, "id": a.id, "name": a.name, "description": a.description,
        }),
        AlbumView::Full {
            album: a,
            number_of_users,
            is_admin,
            users,
        } => {
            let mut v = json!({
                "album_id": a.id,
                "id": a.id,
                "name": a.name,
                "description": a.description,
                "created_time": time(a.created_time),
                "last_event_time": time(a.last_event_time),
                "number_of_users": number_of_users,
                "add_user": a.add_user_permission,
                "download_series": a.download_series_permission,
                "send_series": a.send_series_permission,
                "delete_series": a.delete_series_permission,
                "add_series": a.add_series_permission,
                "write_comments": a.write_comments_permission,
                "is_admin": is_admin,
            });
            if let Some(users) = users {
                v["users"] = Value::Array(users.iter().map(member).collect());
            }
            v
        }
    }
}

/// The token JSON; `secret` only in the create response.
pub fn capability(view: &CapabilityView, secret: Option<&str>) -> Value {
    let c = &view.capability;
    let mut v = Map::new();
    v.insert("id".into(), json!(c.id));
    if let Some(secret) = secret {
        v.insert("secret".into(), json!(secret));
        v.insert("access_token".into(), json!(secret));
    }
    v.insert("token_type".into(), json!("Bearer"));
    v.insert("title".into(), json!(c.title));
    v.insert("scope_type".into(), json!(c.scope_type));
    v.insert("issued_at_time".into(), time(c.issued_at_time));
    v.insert("not_before_time".into(), time(c.not_before_time));
    v.insert("expiration_time".into(), time(c.expiration_time));
    if let Some(t) = c.last_used {
        v.insert("last_used".into(), time(t));
    }
    v.insert("revoked".into(), json!(c.revoke_time.is_some()));
    if let Some(t) = c.revoke_time {
        v.insert("revoke_time".into(), time(t));
    }
    if let Some(album_id) = &c.album_id {
        for (key, value) in [
            ("read_permission", c.read_permission),
            ("write_permission", c.write_permission),
            ("download_permission", c.download_permission),
            ("appropriate_permission", c.appropriate_permission),
        ] {
            v.insert(key.into(), json!(value));
        }
        let mut album = Map::new();
        album.insert("id".into(), json!(album_id));
        album.insert("album_id".into(), json!(album_id));
        if let Some(name) = &view.album_name {
            album.insert("name".into(), json!(name));
        }
        v.insert("album".into(), Value::Object(album));
    }
    if let Some(u) = &view.created_by {
        v.insert("created_by".into(), user(u));
    }
    if let Some(u) = &view.revoked_by {
        v.insert("revoked_by".into(), user(u));
    }
    Value::Object(v)
}

pub fn introspection(result: &Option<Introspection>) -> Value {
    let Some(i) = result else {
        return json!({"active": false});
    };
    let mut v = Map::new();
    v.insert("active".into(), json!(true));
    v.insert("sub".into(), json!(i.sub));
    if let Some(scope) = &i.scope {
        v.insert("scope".into(), json!(scope));
    }
    v.insert("cap_token".into(), json!(i.cap_token));
    if let Some(album_id) = &i.album_id {
        v.insert("album_id".into(), json!(album_id));
    }
    v.insert("exp".into(), json!(i.exp));
    v.insert("iat".into(), json!(i.iat));
    v.insert("nbf".into(), json!(i.nbf));
    Value::Object(v)
}
