//! The rights catalog Tessera ships (easydb-rights.md §5, §6) and the validation of a
//! rights specification against it (§5.3).
//!
//! The catalog is data: `catalog.json`, in the shape `GET /api/v1/right` serves, embedded
//! in the binary and read once at start-up by [`Catalog::shipped`] into typed
//! descriptions. A specification arrives as a [`Given`] value (the shape of what the
//! client sent, decoded at the edge) and leaves [`Context::validate`] as a [`RightsSpec`]
//! whose every right and parameter the catalog knows, aliases made canonical.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The catalog's text, as shipped.
const SHIPPED: &str = include_str!("catalog.json");

/// The seed document's spelling of `system.rightpresetmanager`, accepted everywhere a
/// system right name is, and never shown (§6.1).
pub const PRESET_MANAGER_ALIAS: &str = "system.righpresetmanager";
pub const PRESET_MANAGER: &str = "system.rightpresetmanager";
pub const ROOT: &str = "system.root";

/// An empty JSON object: capability values are reserved for future attributes.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Empty {}

/// Every context, in the catalog's order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Catalog {
    pub contexts: Vec<Context>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Context {
    pub name: String,
    pub capabilities: BTreeMap<String, Empty>,
    pub rights: Vec<Entry>,
}

/// A top-level entry of a context: a right, or a choice bundling rights.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Entry {
    Right(Right),
    Choice(Choice),
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Right {
    pub name: String,
    pub group: String,
    pub comment: String,
    pub has_grantable: bool,
    pub parameters: Vec<Parameter>,
}

/// Related rights of which the stronger imply the weaker; its name is only a label.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Choice {
    pub name: String,
    pub group: String,
    pub comment: String,
    /// Serialized with `"type": "right"` like a top-level right.
    pub rights: Vec<ChoiceRight>,
}

/// A right inside a choice: the same description, tagged `"type": "right"`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum ChoiceRight {
    Right(Right),
}

impl ChoiceRight {
    fn right(&self) -> &Right {
        match self {
            ChoiceRight::Right(r) => r,
        }
    }
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Parameter {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: ParameterType,
    pub comment: String,
    pub required: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub choices: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub range_from: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub range_to: Option<i64>,
}

/// Parameter types and their JSON forms (§5.2).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ParameterType {
    Boolean,
    Integer,
    Text,
    StringList,
    ObjecttypeSelect,
    PoolSelect,
    ColumnSelect,
    MaskSelect,
}

/// The embedded catalog does not read (a build defect; a unit test reads it).
#[derive(Debug, thiserror::Error)]
#[error("the shipped rights catalog does not read: {0}")]
pub struct CatalogError(String);

impl Catalog {
    /// The catalog Tessera ships.
    pub fn shipped() -> Result<Catalog, CatalogError> {
        serde_json::from_str(SHIPPED).map_err(|e| CatalogError(e.to_string()))
    }

    pub fn context(&self, name: &str) -> Option<&Context> {
        self.contexts.iter().find(|c| c.name == name)
    }
}

impl Context {
    /// Whether right presets exist for this context (`collection`, `object`).
    pub fn has_presets(&self) -> bool {
        self.capabilities.contains_key("preset")
    }

    /// The right of this name, at the top level or inside a choice (a choice's own name
    /// is no right); in `system`, the alias finds the canonical right.
    pub fn right(&self, name: &str) -> Option<&Right> {
        let name = canonical(name);
        self.rights.iter().find_map(|entry| match entry {
            Entry::Right(r) if r.name == name => Some(r),
            Entry::Right(_) => None,
            Entry::Choice(c) => c
                .rights
                .iter()
                .map(ChoiceRight::right)
                .find(|r| r.name == name),
        })
    }

    /// Checks a rights specification against this context (§5.3, rules 1–5) and returns it
    /// with canonical right names.
    pub fn validate(&self, spec: &Given) -> Result<RightsSpec, SpecError> {
        let Given::Map(rights) = spec else {
            return Err(SpecError::NotAnObject(
                "the rights specification".to_owned(),
            ));
        };
        let mut out = BTreeMap::new();
        for (name, value) in rights {
            let right = self.right(name).ok_or_else(|| SpecError::UnknownRight {
                context: self.name.clone(),
                right: name.clone(),
            })?;
            let Given::Map(params) = value else {
                return Err(SpecError::NotAnObject(format!("right {name}")));
            };
            for (key, given) in params {
                if key == "_grantable" {
                    if !right.has_grantable {
                        return Err(SpecError::NotGrantable(right.name.clone()));
                    }
                    if !matches!(given, Given::Bool(_)) {
                        return Err(bad(right, key, "a boolean"));
                    }
                    continue;
                }
                let parameter = right
                    .parameters
                    .iter()
                    .find(|p| &p.name == key)
                    .ok_or_else(|| SpecError::UnknownParameter {
                        right: right.name.clone(),
                        parameter: key.clone(),
                    })?;
                check_parameter(right, parameter, given)?;
            }
            if let Some(missing) = right
                .parameters
                .iter()
                .find(|p| p.required && !params.contains_key(&p.name))
            {
                return Err(SpecError::MissingParameter {
                    right: right.name.clone(),
                    parameter: missing.name.clone(),
                });
            }
            out.insert(right.name.clone(), value.clone());
        }
        Ok(RightsSpec(out))
    }
}

/// The canonical name of a right name (only the preset manager's alias differs).
pub fn canonical(name: &str) -> &str {
    if name == PRESET_MANAGER_ALIAS {
        PRESET_MANAGER
    } else {
        name
    }
}

fn check_parameter(right: &Right, p: &Parameter, given: &Given) -> Result<(), SpecError> {
    let ok = match p.kind {
        ParameterType::Boolean => matches!(given, Given::Bool(_)),
        ParameterType::Integer => match given {
            Given::Integer(n) => {
                p.range_from.is_none_or(|from| from <= *n) && p.range_to.is_none_or(|to| *n <= to)
            }
            _ => false,
        },
        ParameterType::Text => match given {
            Given::Text(t) => one_of(&p.choices, t),
            _ => false,
        },
        ParameterType::StringList => match given {
            Given::List(items) => items
                .iter()
                .all(|i| matches!(i, Given::Text(t) if one_of(&p.choices, t))),
            _ => false,
        },
        ParameterType::ObjecttypeSelect
        | ParameterType::PoolSelect
        | ParameterType::ColumnSelect => match given {
            Given::List(items) => items.iter().all(|i| matches!(i, Given::Integer(_))),
            _ => false,
        },
        ParameterType::MaskSelect => match given {
            Given::Map(masks) => masks.iter().all(|(objecttype, ids)| {
                objecttype.parse::<u64>().is_ok()
                    && match ids {
                        Given::Text(t) => t == "standard",
                        Given::List(items) => items.iter().all(|i| matches!(i, Given::Integer(_))),
                        _ => false,
                    }
            }),
            _ => false,
        },
    };
    if ok {
        Ok(())
    } else {
        Err(bad(right, &p.name, expected(p)))
    }
}

fn one_of(choices: &Option<Vec<String>>, value: &str) -> bool {
    choices
        .as_ref()
        .is_none_or(|c| c.iter().any(|x| x == value))
}

fn expected(p: &Parameter) -> &'static str {
    match p.kind {
        ParameterType::Boolean => "a boolean",
        ParameterType::Integer => "an integer in its range",
        ParameterType::Text => "a string among its choices",
        ParameterType::StringList => "an array of strings among its choices",
        ParameterType::ObjecttypeSelect
        | ParameterType::PoolSelect
        | ParameterType::ColumnSelect => "an array of integers",
        ParameterType::MaskSelect => {
            "an object of objecttype ids to arrays of mask ids or \"standard\""
        }
    }
}

fn bad(right: &Right, parameter: &str, expected: &str) -> SpecError {
    SpecError::BadParameter {
        right: right.name.clone(),
        parameter: parameter.to_owned(),
        expected: expected.to_owned(),
    }
}

/// The shape of a value as a client sent it, decoded at the edge (JSON there); the
/// domain checks it against the catalog. Object keys keep no order. It writes as plain
/// JSON (serde, untagged) and reads from any self-describing format (its own visitor:
/// reading stored sets is on every request's path).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Given {
    Null,
    Bool(bool),
    Integer(i64),
    /// A number that is not an integer.
    Float(f64),
    Text(String),
    List(Vec<Given>),
    Map(BTreeMap<String, Given>),
}

impl<'de> Deserialize<'de> for Given {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(GivenVisitor)
    }
}

struct GivenVisitor;

impl<'de> serde::de::Visitor<'de> for GivenVisitor {
    type Value = Given;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_unit<E>(self) -> Result<Given, E> {
        Ok(Given::Null)
    }

    fn visit_none<E>(self) -> Result<Given, E> {
        Ok(Given::Null)
    }

    fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> Result<Given, D::Error> {
        Given::deserialize(d)
    }

    fn visit_bool<E>(self, v: bool) -> Result<Given, E> {
        Ok(Given::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Given, E> {
        Ok(Given::Integer(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Given, E> {
        // Above i64::MAX: a number, but no integer Tessera can hold.
        Ok(i64::try_from(v).map_or(Given::Float(v as f64), Given::Integer))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Given, E> {
        Ok(Given::Float(v))
    }

    fn visit_str<E>(self, v: &str) -> Result<Given, E> {
        Ok(Given::Text(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Given, E> {
        Ok(Given::Text(v))
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Given, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Given::List(items))
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Given, A::Error> {
        let mut out = BTreeMap::new();
        while let Some((key, value)) = map.next_entry::<String, Given>()? {
            out.insert(key, value);
        }
        Ok(Given::Map(out))
    }
}

/// A valid rights specification: canonical right names to their parameter objects
/// (`_grantable` included when given).
#[derive(Debug, Clone, PartialEq)]
pub struct RightsSpec(pub BTreeMap<String, Given>);

impl RightsSpec {
    /// The specification as stored: JSON text.
    pub(crate) fn to_stored(&self) -> String {
        serde_json::to_string(&self.0).unwrap_or_else(|_| "{}".to_owned())
    }

    /// A stored specification; `None` when the text is not a JSON object.
    pub(crate) fn from_stored(text: &str) -> Option<RightsSpec> {
        match serde_json::from_str::<Given>(text) {
            Ok(Given::Map(map)) => Some(RightsSpec(map)),
            _ => None,
        }
    }
}

/// Why a rights specification is refused (easydb's `error.api.invalid_value`, except
/// where a value is not an object: `type_mismatch`). The text is the error description.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SpecError {
    #[error("{0} is not an object")]
    NotAnObject(String),
    #[error("right context {context:?} has no right {right:?}")]
    UnknownRight { context: String, right: String },
    #[error("right {right:?} has no parameter {parameter:?}")]
    UnknownParameter { right: String, parameter: String },
    #[error("right {0:?} cannot be _grantable")]
    NotGrantable(String),
    #[error("parameter {parameter:?} of right {right:?} must be {expected}")]
    BadParameter {
        right: String,
        parameter: String,
        expected: String,
    },
    #[error("right {right:?} needs parameter {parameter:?}")]
    MissingParameter { right: String, parameter: String },
}

#[cfg(test)]
mod tests;
