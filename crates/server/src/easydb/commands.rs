//! Decoding easydb request bodies into the domain's typed commands: the structure checks
//! of §7.3 and §10.2 (`type_mismatch`, `attribute_expected`, `attribute_not_accepted`,
//! `invalid_value`), element by element.
//!
//! A request is all-or-nothing and its first failure in input order is the answer, so a
//! decode keeps the elements before the first one that does not decode: the handler runs
//! the domain's checks on them first ([`Decoded::checked`]).

use std::collections::{BTreeMap, BTreeSet};

use rights::catalog::Given;
use rights::holders::RightsChange;
use rights::presets::{Localised, PresetWrite, TagFilter};
use serde_json::{Map, Value};

use super::error::{ApiCode, EasydbApiError};

/// The decodable elements of a request array and, if one does not decode, why.
pub struct Decoded<T> {
    items: Vec<T>,
    refused: Option<EasydbApiError>,
}

impl<T> Decoded<T> {
    /// Every element, or the first failure in input order: `check` (the domain's checks
    /// without writing) on the elements before the one that did not decode, then that one.
    pub fn checked<E>(
        self,
        check: impl FnOnce(&[T]) -> Result<(), E>,
    ) -> Result<Vec<T>, EasydbApiError>
    where
        EasydbApiError: From<E>,
    {
        match self.refused {
            None => Ok(self.items),
            Some(refused) => {
                check(&self.items)?;
                Err(refused)
            }
        }
    }
}

fn mismatch(what: impl std::fmt::Display) -> EasydbApiError {
    EasydbApiError::api(ApiCode::TypeMismatch, format!("{what} has the wrong type"))
}

fn expected(what: &str) -> EasydbApiError {
    EasydbApiError::api(ApiCode::AttributeExpected, format!("{what} is required"))
}

fn not_accepted(what: &str) -> EasydbApiError {
    EasydbApiError::api(
        ApiCode::AttributeNotAccepted,
        format!("attribute {what:?} is not accepted here"),
    )
}

fn invalid(description: String) -> EasydbApiError {
    EasydbApiError::api(ApiCode::InvalidValue, description)
}

/// The request's elements: the body must be an array, and no `_id` (read at `inner`) may
/// occur twice, which is checked before any element is examined.
fn elements<'a>(body: &'a Value, inner: &str) -> Result<&'a [Value], EasydbApiError> {
    let Value::Array(items) = body else {
        return Err(mismatch("the body (an array is expected)"));
    };
    let mut seen = BTreeSet::new();
    for id in items
        .iter()
        .filter_map(|item| item.get(inner)?.get("_id")?.as_i64())
    {
        if !seen.insert(id) {
            return Err(invalid(format!(
                "_id {id} occurs more than once in the request"
            )));
        }
    }
    Ok(items)
}

/// Decodes each element with `decode` until one fails.
fn decode_all<T>(
    items: &[Value],
    mut decode: impl FnMut(&Value) -> Result<T, EasydbApiError>,
) -> Decoded<T> {
    let mut decoded = Vec::with_capacity(items.len());
    for item in items {
        match decode(item) {
            Ok(value) => decoded.push(value),
            Err(refused) => {
                return Decoded {
                    items: decoded,
                    refused: Some(refused),
                }
            }
        }
    }
    Decoded {
        items: decoded,
        refused: None,
    }
}

fn object<'a>(value: &'a Value, what: &str) -> Result<&'a Map<String, Value>, EasydbApiError> {
    value.as_object().ok_or_else(|| mismatch(what))
}

/// `_basetype`: required, and this value.
fn basetype(item: &Map<String, Value>, wanted: &str) -> Result<(), EasydbApiError> {
    match item.get("_basetype") {
        None => Err(expected("_basetype")),
        Some(Value::String(s)) if s == wanted => Ok(()),
        Some(Value::String(s)) => Err(invalid(format!("_basetype must be {wanted:?}, not {s:?}"))),
        Some(_) => Err(mismatch("_basetype")),
    }
}

fn only(map: &Map<String, Value>, allowed: &[&str], within: &str) -> Result<(), EasydbApiError> {
    match map.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(key) if within.is_empty() => Err(not_accepted(key)),
        Some(key) => Err(not_accepted(&format!("{within}.{key}"))),
        None => Ok(()),
    }
}

fn integer(
    map: &Map<String, Value>,
    key: &str,
    within: &str,
) -> Result<Option<i64>, EasydbApiError> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_i64()
            .map(Some)
            .ok_or_else(|| mismatch(format!("{within}.{key}"))),
    }
}

fn required_integer(
    map: &Map<String, Value>,
    key: &str,
    within: &str,
) -> Result<i64, EasydbApiError> {
    integer(map, key, within)?.ok_or_else(|| expected(&format!("{within}.{key}")))
}

fn given(value: &Value) -> Given {
    // A JSON value always reads as a `Given`; the fallback is never taken.
    serde_json::from_value(value.clone()).unwrap_or(Given::Null)
}

/// A preset POST body (§7.3).
pub fn preset_writes(body: &Value) -> Result<Decoded<PresetWrite>, EasydbApiError> {
    let items = elements(body, "right_preset")?;
    Ok(decode_all(items, preset_write))
}

fn preset_write(item: &Value) -> Result<PresetWrite, EasydbApiError> {
    let item = object(item, "a right preset (an object is expected)")?;
    basetype(item, "right_preset")?;
    only(item, &["_basetype", "right_preset"], "")?;
    let inner = object(
        item.get("right_preset")
            .ok_or_else(|| expected("right_preset"))?,
        "right_preset",
    )?;
    only(
        inner,
        &[
            "_id",
            "_version",
            "_position",
            "displayname",
            "description",
            "preset",
        ],
        "right_preset",
    )?;
    let id = integer(inner, "_id", "right_preset")?;
    let version = required_integer(inner, "_version", "right_preset")?;
    let position = integer(inner, "_position", "right_preset")?;
    let displayname = localised(inner, "displayname")?;
    let description = localised(inner, "description")?;
    let preset = object(
        inner
            .get("preset")
            .ok_or_else(|| expected("right_preset.preset"))?,
        "right_preset.preset",
    )?;
    only(preset, &["rights", "tagfilter"], "right_preset.preset")?;
    let rights = match preset.get("rights") {
        None => return Err(expected("right_preset.preset.rights")),
        Some(v @ Value::Object(_)) => given(v),
        Some(_) => return Err(mismatch("right_preset.preset.rights")),
    };
    let tagfilter = match preset.get("tagfilter") {
        None | Some(Value::Null) => None,
        Some(v) => Some(tag_filter(v)?),
    };
    Ok(PresetWrite {
        id,
        version,
        position,
        displayname,
        description,
        rights,
        tagfilter,
    })
}

/// A localisation map: an object of strings; omitted or `null` is empty.
fn localised(map: &Map<String, Value>, key: &str) -> Result<Localised, EasydbApiError> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(BTreeMap::new()),
        Some(Value::Object(texts)) => texts
            .iter()
            .map(|(language, text)| match text {
                Value::String(t) => Ok((language.clone(), t.clone())),
                _ => Err(mismatch(format!("right_preset.{key}.{language}"))),
            })
            .collect(),
        Some(_) => Err(mismatch(format!("right_preset.{key}"))),
    }
}

/// `tagfilter`: an object with any of `all`, `any`, `not`, each an array of integer tag
/// ids (that one list is non-empty is the domain's rule). Anything else is an invalid
/// value (§7.3).
fn tag_filter(value: &Value) -> Result<TagFilter, EasydbApiError> {
    let bad = |why: &str| invalid(format!("tagfilter: {why}"));
    let Value::Object(map) = value else {
        return Err(bad("an object with all, any or not is expected"));
    };
    let mut filter = TagFilter::default();
    for (key, list) in map {
        let slot = match key.as_str() {
            "all" => &mut filter.all,
            "any" => &mut filter.any,
            "not" => &mut filter.not,
            other => return Err(bad(&format!("{other:?} is not all, any or not"))),
        };
        let ids = list
            .as_array()
            .and_then(|items| items.iter().map(Value::as_i64).collect::<Option<Vec<_>>>())
            .ok_or_else(|| bad(&format!("{key} must be an array of integer tag ids")))?;
        *slot = Some(ids);
    }
    Ok(filter)
}

/// A `POST /api/v1/user` or `/api/v1/group` body (§10.2, §10.3): per element only
/// `_basetype`, `<kind>._id`, `<kind>._version` and `_system_rights` are read.
pub fn rights_changes(body: &Value, kind: &str) -> Result<Decoded<RightsChange>, EasydbApiError> {
    let items = elements(body, kind)?;
    Ok(decode_all(items, |item| rights_change(item, kind)))
}

fn rights_change(item: &Value, kind: &str) -> Result<RightsChange, EasydbApiError> {
    let item = object(item, &format!("a {kind} (an object is expected)"))?;
    basetype(item, kind)?;
    let record = match item.get(kind) {
        None => return Err(expected(&format!("{kind}._id"))),
        Some(v) => object(v, kind)?,
    };
    let id = required_integer(record, "_id", kind)?;
    let version = required_integer(record, "_version", kind)?;
    let rights = match item.get("_system_rights") {
        None => None,
        Some(v @ (Value::Null | Value::Object(_))) => Some(given(v)),
        Some(_) => return Err(mismatch("_system_rights")),
    };
    Ok(RightsChange {
        id,
        version,
        rights,
    })
}
