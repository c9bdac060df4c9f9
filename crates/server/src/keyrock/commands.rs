//! Keyrock's JSON bodies decoded into the domain's typed commands. Only the wire's shapes are
//! read here (which member, which JSON type); every rule about values, and the order of
//! Keyrock's messages, is the domain's.

use keyrock_idm::applications::{ApplicationChanges, NewApplication};
use keyrock_idm::organizations::OrganizationFields;
use keyrock_idm::permissions::PermissionFields;
use keyrock_idm::roles::RoleFields;
use keyrock_idm::users::{CreateUser, JsonText, UpdateUser};
use keyrock_idm::Given;
use serde_json::{Map, Value};

type Object = Map<String, Value>;

/// The object under `key` (`{"application": {...}}`), decoded; anything else is absent.
fn wrapped<T>(body: &Value, key: &str, decode: impl FnOnce(&Object) -> T) -> Given<T> {
    match body.get(key) {
        Some(Value::Object(obj)) => Given::Value(decode(obj)),
        Some(Value::Null) | None => Given::Absent,
        Some(_) => Given::Unusable,
    }
}

/// A member, mapped by `read` when it is neither missing nor null.
fn member<T>(obj: &Object, key: &str, read: impl FnOnce(&Value) -> Option<T>) -> Given<T> {
    match obj.get(key) {
        None => Given::Absent,
        Some(Value::Null) => Given::Null,
        Some(v) => read(v).map_or(Given::Unusable, Given::Value),
    }
}

fn text(obj: &Object, key: &str) -> Given<String> {
    member(obj, key, |v| v.as_str().map(str::to_owned))
}

/// Text, with numbers and booleans in their JSON spelling.
fn spelled(obj: &Object, key: &str) -> Given<String> {
    member(obj, key, |v| match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(_) | Value::Bool(_) => Some(v.to_string()),
        _ => None,
    })
}

fn flag(obj: &Object, key: &str) -> Given<bool> {
    member(obj, key, Value::as_bool)
}

/// A string, or a list whose strings are joined with commas.
fn text_or_list(obj: &Object, key: &str) -> Given<String> {
    member(obj, key, |v| match v {
        Value::String(s) => Some(s.clone()),
        Value::Array(items) => Some(strings_in(items).join(",")),
        _ => None,
    })
}

fn strings_in(items: &[Value]) -> Vec<String> {
    items
        .iter()
        .filter_map(Value::as_str)
        .map(str::to_owned)
        .collect()
}

/// A list; items that are not strings are left out.
fn list_strings(obj: &Object, key: &str) -> Given<Vec<String>> {
    member(obj, key, |v| v.as_array().map(|items| strings_in(items)))
}

/// A list of strings only: an item of another type makes the whole member unusable.
fn only_strings(obj: &Object, key: &str) -> Given<Vec<String>> {
    member(obj, key, |v| {
        let items = v.as_array()?;
        let strings = strings_in(items);
        (strings.len() == items.len()).then_some(strings)
    })
}

fn any_sent(obj: &Object, keys: &[&str]) -> bool {
    keys.iter().any(|k| obj.contains_key(*k))
}

pub fn new_application(body: &Value) -> Given<NewApplication> {
    wrapped(body, "application", |o| NewApplication {
        name: text(o, "name"),
        description: text(o, "description").into_value(),
        url: text(o, "url").into_value(),
        redirect_uri: text_or_list(o, "redirect_uri"),
        redirect_sign_out_uri: text(o, "redirect_sign_out_uri").into_value(),
        client_type: text(o, "client_type").into_value(),
        scope: text_or_list(o, "scope").into_value(),
        grant_types: list_strings(o, "grant_type"),
        token_types: only_strings(o, "token_types"),
    })
}

pub fn application_changes(body: &Value) -> Given<ApplicationChanges> {
    wrapped(body, "application", |o| ApplicationChanges {
        name: text(o, "name"),
        description: text(o, "description"),
        url: text(o, "url"),
        redirect_uri: text_or_list(o, "redirect_uri"),
        redirect_sign_out_uri: text(o, "redirect_sign_out_uri"),
        client_type: text(o, "client_type"),
        scope: text_or_list(o, "scope"),
        grant_types: list_strings(o, "grant_type"),
        token_types: only_strings(o, "token_types"),
        sets_read_only: any_sent(o, &["id", "secret", "response_type"]),
    })
}

pub fn role(body: &Value) -> Given<RoleFields> {
    wrapped(body, "role", |o| RoleFields {
        name: text(o, "name"),
        sets_read_only: any_sent(o, &["id", "is_internal"]),
    })
}

pub fn organization(body: &Value) -> Given<OrganizationFields> {
    wrapped(body, "organization", |o| OrganizationFields {
        name: text(o, "name"),
        description: text(o, "description"),
        website: text(o, "website"),
        sets_id: any_sent(o, &["id"]),
    })
}

pub fn permission(body: &Value) -> Given<PermissionFields> {
    wrapped(body, "permission", |o| PermissionFields {
        name: spelled(o, "name"),
        description: spelled(o, "description"),
        action: spelled(o, "action"),
        resource: spelled(o, "resource"),
        xml: spelled(o, "xml"),
        is_regex: flag(o, "is_regex"),
        use_authorization_service_header: flag(o, "use_authorization_service_header"),
        authorization_service_header: spelled(o, "authorization_service_header"),
        regex_entity_ids: spelled(o, "regex_entity_ids"),
        regex_attributes: spelled(o, "regex_attributes"),
        regex_types: spelled(o, "regex_types"),
        sets_read_only: any_sent(o, &["id", "is_internal"]),
    })
}

/// Any JSON value but null, kept as its text.
fn json_text(obj: &Object, key: &str) -> Given<JsonText> {
    member(obj, key, |v| Some(JsonText(v.to_string())))
}

pub fn new_user(body: &Value) -> Given<CreateUser> {
    wrapped(body, "user", |o| CreateUser {
        username: text(o, "username"),
        email: text(o, "email"),
        password: text(o, "password"),
        description: text(o, "description").into_value(),
        website: text(o, "website").into_value(),
        gravatar: flag(o, "gravatar").into_value(),
        extra: json_text(o, "extra").into_value(),
    })
}

pub fn user_changes(body: &Value) -> Given<UpdateUser> {
    wrapped(body, "user", |o| UpdateUser {
        sets_id: any_sent(o, &["id"]),
        username: text(o, "username"),
        email: text(o, "email"),
        password: text(o, "password"),
        description: text(o, "description"),
        website: text(o, "website"),
        gravatar: flag(o, "gravatar"),
        extra: json_text(o, "extra"),
    })
}
