//! Keyrock's JSON bodies decoded into the domain's typed commands. Only the wire's shapes are
//! read here (which member, which JSON type); every rule about values, and the order of
//! Keyrock's messages, is the domain's.

use keyrock_idm::applications::{self, ApplicationChanges, NewApplication};
use keyrock_idm::organizations::{self, OrganizationFields};
use keyrock_idm::permissions::{self, PermissionFields};
use keyrock_idm::roles::{self, RoleFields};
use keyrock_idm::users::{self, CreateUser, JsonText, UpdateUser};
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
        sets_read_only: any_sent(o, &applications::READ_ONLY_FIELDS),
    })
}

pub fn role(body: &Value) -> Given<RoleFields> {
    wrapped(body, "role", |o| RoleFields {
        name: text(o, "name"),
        sets_read_only: any_sent(o, &roles::READ_ONLY_FIELDS),
    })
}

pub fn organization(body: &Value) -> Given<OrganizationFields> {
    wrapped(body, "organization", |o| OrganizationFields {
        name: text(o, "name"),
        description: text(o, "description"),
        website: text(o, "website"),
        sets_id: any_sent(o, &organizations::READ_ONLY_FIELDS),
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
        sets_read_only: any_sent(o, &permissions::READ_ONLY_FIELDS),
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
        sets_id: any_sent(o, &users::READ_ONLY_FIELDS),
        username: text(o, "username"),
        email: text(o, "email"),
        password: text(o, "password"),
        description: text(o, "description"),
        website: text(o, "website"),
        gravatar: flag(o, "gravatar"),
        extra: json_text(o, "extra"),
    })
}

/// The request bodies as `/openapi.json` documents them. Requests are decoded above, from
/// the loose JSON Keyrock accepts, never through these types; every inner field is optional
/// here because the domain, not the schema, names what is missing (in Keyrock's words).
pub mod requests {
    #![expect(
        dead_code,
        reason = "documentation types: only their schemas are read, by /openapi.json"
    )]

    use serde::Deserialize;
    use serde_json::Value;
    use utoipa::ToSchema;

    /// A string, or a list of strings (joined with commas).
    #[derive(Debug, Deserialize, ToSchema)]
    #[serde(untagged)]
    pub enum TextOrList {
        Text(String),
        List(Vec<String>),
    }

    /// A string; numbers and booleans are taken in their JSON spelling.
    #[derive(Debug, Deserialize, ToSchema)]
    #[serde(untagged)]
    pub enum Spelled {
        Text(String),
        Number(f64),
        Flag(bool),
    }

    /// `POST /v1/users` (`username`, `email` and `password` required) and
    /// `PATCH /v1/users/{user_id}`.
    #[derive(Debug, Deserialize, ToSchema)]
    pub struct UserRequest {
        pub user: UserInput,
    }

    #[derive(Debug, Deserialize, ToSchema)]
    pub struct UserInput {
        pub username: Option<String>,
        pub email: Option<String>,
        pub password: Option<String>,
        pub description: Option<String>,
        pub website: Option<String>,
        pub gravatar: Option<bool>,
        /// Any JSON, stored and returned as given.
        pub extra: Option<Value>,
    }

    /// `POST /v1/applications` (`name` and `redirect_uri` required) and
    /// `PATCH /v1/applications/{application_id}`.
    #[derive(Debug, Deserialize, ToSchema)]
    pub struct ApplicationRequest {
        pub application: ApplicationInput,
    }

    #[derive(Debug, Deserialize, ToSchema)]
    pub struct ApplicationInput {
        pub name: Option<String>,
        pub description: Option<String>,
        pub url: Option<String>,
        pub redirect_uri: Option<TextOrList>,
        pub redirect_sign_out_uri: Option<String>,
        pub client_type: Option<String>,
        pub scope: Option<TextOrList>,
        /// Grant type names; names Keyrock does not know are dropped.
        pub grant_type: Option<Vec<String>>,
        /// `jwt` and/or `permanent`.
        pub token_types: Option<Vec<String>>,
    }

    /// `POST` and `PATCH` of `/v1/applications/{application_id}/roles`.
    #[derive(Debug, Deserialize, ToSchema)]
    pub struct RoleRequest {
        pub role: RoleInput,
    }

    #[derive(Debug, Deserialize, ToSchema)]
    pub struct RoleInput {
        pub name: Option<String>,
    }

    /// `POST` and `PATCH` of `/v1/applications/{application_id}/permissions` (keyrock.md 4.6).
    #[derive(Debug, Deserialize, ToSchema)]
    pub struct PermissionRequest {
        pub permission: PermissionInput,
    }

    #[derive(Debug, Deserialize, ToSchema)]
    pub struct PermissionInput {
        pub name: Option<Spelled>,
        pub description: Option<Spelled>,
        pub action: Option<Spelled>,
        pub resource: Option<Spelled>,
        pub xml: Option<Spelled>,
        pub is_regex: Option<bool>,
        pub use_authorization_service_header: Option<bool>,
        pub authorization_service_header: Option<Spelled>,
        pub regex_entity_ids: Option<Spelled>,
        pub regex_attributes: Option<Spelled>,
        pub regex_types: Option<Spelled>,
    }

    /// `POST /v1/organizations` (`name` required) and `PATCH /v1/organizations/{organization_id}`.
    #[derive(Debug, Deserialize, ToSchema)]
    pub struct OrganizationRequest {
        pub organization: OrganizationInput,
    }

    #[derive(Debug, Deserialize, ToSchema)]
    pub struct OrganizationInput {
        pub name: Option<String>,
        pub description: Option<String>,
        pub website: Option<String>,
    }

    /// `POST /v1/auth/tokens`, as JSON or as a form: `name` (an email or a PEP proxy id) with
    /// `password`, and/or an existing `token`.
    #[derive(Debug, Deserialize, ToSchema)]
    pub struct LoginRequest {
        pub name: Option<String>,
        pub password: Option<String>,
        pub token: Option<String>,
    }
}
