//! What the easydb family answers (easydb-rights.md §3, §4.5, §7, §8): typed views built
//! from the domain's outcomes.

use std::collections::BTreeMap;

use rights::catalog::{Context, Empty, Entry, Given, RightsSpec};
use rights::holders::{GroupRef, Holder};
use rights::presets::{Preset, TagFilter};
use rights::sessions::SessionView;
use serde::Serialize;
use utoipa::ToSchema;

use crate::wire_time;

/// A rights specification: right name to its parameters (and `_grantable`).
pub type RightsMap = BTreeMap<String, Given>;

fn rights_map(spec: &RightsSpec) -> RightsMap {
    spec.0.clone()
}

/// `instance` of the session object.
#[derive(Debug, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EasydbInstance {
    pub api: &'static str,
    pub server_version: i64,
    pub solution: &'static str,
    #[serde(rename = "user-schema")]
    pub user_schema: i64,
    pub name: &'static str,
}

/// An authentication method.
#[derive(Debug, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EasydbMethod {
    pub method: &'static str,
}

/// How and when the session was authenticated.
#[derive(Debug, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EasydbAuthenticated {
    pub method: &'static str,
    #[schema(example = "2025-03-01T09:15:02Z")]
    pub timestamp: String,
}

/// An empty object (a pending task never appears; the list is always empty).
#[derive(Debug, Serialize, ToSchema)]
pub struct EasydbEmpty {}

/// The session object (§4.5); the logged-in fields are absent while the session is not
/// authenticated.
#[derive(Debug, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EasydbSession {
    pub token: String,
    pub instance: EasydbInstance,
    #[schema(example = "en-US")]
    pub frontend_language: String,
    pub authentication_methods: Vec<EasydbMethod>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authenticated: Option<EasydbAuthenticated>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<EasydbSessionUser>,
    /// The user's groups, by `_id`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub groups: Option<Vec<EasydbGroupShort>>,
    /// The effective system rights (§9).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub system_rights: Option<RightsMap>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pending_tasks: Option<Vec<EasydbEmpty>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_max_message_id: Option<i64>,
}

/// The fields of a user record (short format; the full format adds nothing inside).
#[derive(Debug, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EasydbUserFields {
    pub _id: i64,
    pub _version: i64,
    pub login: String,
    pub _primary_email: String,
    pub _generated_displayname: String,
    #[schema(example = "easydb")]
    pub r#type: &'static str,
    pub keyrock_id: String,
}

/// The session's user: the short format with its groups.
#[derive(Debug, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EasydbSessionUser {
    #[schema(example = "user")]
    pub _basetype: &'static str,
    pub user: EasydbUserFields,
    pub _groups: Vec<EasydbGroupShort>,
}

/// A user in full format (§3): its own system rights and its groups.
#[derive(Debug, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EasydbUser {
    #[schema(example = "user")]
    pub _basetype: &'static str,
    pub user: EasydbUserFields,
    /// The user's own set, not the effective one.
    #[schema(value_type = Object)]
    pub _system_rights: RightsMap,
    pub _groups: Vec<EasydbGroupShort>,
}

/// The fields of a group in short format.
#[derive(Debug, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EasydbGroupShortFields {
    pub _id: i64,
    pub name: String,
    #[schema(example = "easydb")]
    pub r#type: &'static str,
    pub keyrock_id: String,
}

/// A group in short format.
#[derive(Debug, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EasydbGroupShort {
    #[schema(example = "group")]
    pub _basetype: &'static str,
    pub group: EasydbGroupShortFields,
}

/// The fields of a group in full format.
#[derive(Debug, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EasydbGroupFields {
    pub _id: i64,
    pub _version: i64,
    pub name: String,
    #[schema(example = "easydb")]
    pub r#type: &'static str,
    /// `{"en-US": <name>}`.
    pub displayname: BTreeMap<String, String>,
    pub keyrock_id: String,
}

/// A group (Keyrock organization) in full format (§3).
#[derive(Debug, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EasydbGroup {
    #[schema(example = "group")]
    pub _basetype: &'static str,
    pub group: EasydbGroupFields,
    #[schema(value_type = Object)]
    pub _system_rights: RightsMap,
}

/// A right preset (§8).
#[derive(Debug, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EasydbRightPreset {
    #[schema(example = "right_preset")]
    pub _basetype: &'static str,
    pub right_preset: EasydbRightPresetFields,
}

/// The six fields of a preset, always present.
#[derive(Debug, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EasydbRightPresetFields {
    pub _id: i64,
    pub _version: i64,
    pub _position: i64,
    pub displayname: BTreeMap<String, String>,
    pub description: BTreeMap<String, String>,
    pub preset: EasydbPresetContent,
}

/// What a preset grants.
#[derive(Debug, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EasydbPresetContent {
    /// A rights specification of the preset's context.
    #[schema(value_type = Object)]
    pub rights: RightsMap,
    /// `null` when not set.
    #[schema(required = true)]
    pub tagfilter: Option<EasydbTagFilter>,
}

/// Tag ids of which a record must carry all, any, or none.
#[derive(Debug, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EasydbTagFilter {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub all: Option<Vec<i64>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub any: Option<Vec<i64>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not: Option<Vec<i64>>,
}

/// A context of the catalog (§7.1).
#[derive(Debug, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EasydbRightContext {
    pub capabilities: BTreeMap<String, Empty>,
    /// Only in the contexts with presets.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub presets: Option<Vec<EasydbRightPreset>>,
    pub rights: Vec<Entry>,
}

/// `{}`: the answer of a delete.
#[derive(Debug, Serialize, ToSchema)]
pub struct EasydbDeleted {}

const INSTANCE: EasydbInstance = EasydbInstance {
    api: "1",
    server_version: 1,
    solution: "tessera",
    user_schema: 1,
    name: "tessera",
};

pub fn session(token: String, view: SessionView) -> EasydbSession {
    let mut out = EasydbSession {
        token,
        instance: INSTANCE,
        frontend_language: view.language,
        authentication_methods: vec![EasydbMethod {
            method: rights::sessions::METHOD,
        }],
        authenticated: None,
        user: None,
        groups: None,
        system_rights: None,
        pending_tasks: None,
        current_max_message_id: None,
    };
    if let Some(login) = view.login {
        out.authenticated = Some(EasydbAuthenticated {
            method: rights::sessions::METHOD,
            timestamp: wire_time::rfc3339_seconds(login.at),
        });
        out.groups = Some(login.user.groups.iter().map(group_short).collect());
        out.user = Some(EasydbSessionUser {
            _basetype: "user",
            user: user_fields(&login.user),
            _groups: login.user.groups.iter().map(group_short).collect(),
        });
        out.system_rights = Some(rights_map(&login.effective));
        out.pending_tasks = Some(Vec::new());
        out.current_max_message_id = Some(0);
    }
    out
}

fn user_fields(user: &Holder) -> EasydbUserFields {
    EasydbUserFields {
        _id: user.id,
        _version: user.version,
        login: user.name.clone(),
        _primary_email: user.email.clone().unwrap_or_default(),
        _generated_displayname: user.name.clone(),
        r#type: "easydb",
        keyrock_id: user.keyrock_id.clone(),
    }
}

fn group_short(group: &GroupRef) -> EasydbGroupShort {
    EasydbGroupShort {
        _basetype: "group",
        group: EasydbGroupShortFields {
            _id: group.id,
            name: group.name.clone(),
            r#type: "easydb",
            keyrock_id: group.keyrock_id.clone(),
        },
    }
}

pub fn user(user: &Holder) -> EasydbUser {
    EasydbUser {
        _basetype: "user",
        user: user_fields(user),
        _system_rights: rights_map(&user.rights),
        _groups: user.groups.iter().map(group_short).collect(),
    }
}

pub fn group(group: &Holder) -> EasydbGroup {
    EasydbGroup {
        _basetype: "group",
        group: EasydbGroupFields {
            _id: group.id,
            _version: group.version,
            name: group.name.clone(),
            r#type: "easydb",
            displayname: [("en-US".to_owned(), group.name.clone())].into(),
            keyrock_id: group.keyrock_id.clone(),
        },
        _system_rights: rights_map(&group.rights),
    }
}

pub fn preset(preset: &Preset) -> EasydbRightPreset {
    EasydbRightPreset {
        _basetype: "right_preset",
        right_preset: EasydbRightPresetFields {
            _id: preset.id,
            _version: preset.version,
            _position: preset.position,
            displayname: preset.displayname.clone(),
            description: preset.description.clone(),
            preset: EasydbPresetContent {
                rights: rights_map(&preset.rights),
                tagfilter: preset.tagfilter.as_ref().map(tagfilter),
            },
        },
    }
}

fn tagfilter(filter: &TagFilter) -> EasydbTagFilter {
    EasydbTagFilter {
        all: filter.all.clone(),
        any: filter.any.clone(),
        not: filter.not.clone(),
    }
}

/// A context of the catalog; `presets` is given for the contexts that have them.
pub fn context(context: &Context, presets: Option<&[Preset]>) -> EasydbRightContext {
    EasydbRightContext {
        capabilities: context.capabilities.clone(),
        presets: presets.map(|list| list.iter().map(preset).collect()),
        rights: context.rights.clone(),
    }
}
