//! What Hexoskin handlers take from a request before the domain runs: the bearer
//! credential (§1.2), Tastypie's list parameters (§1.4), the JSON object body (§1.3) and
//! references to users and bundles (§1.8).

use actix_web::{web, HttpRequest};
use bundle_permissions::users::UserRef;
use bundle_permissions::{Field, Order, Paging};
use serde_json::{Map, Value};

use super::error::HexoskinApiError;
use crate::http::body;
use crate::http::credentials::{self, Authorization};
use crate::http::text::{self, DecodeError};

/// The bearer credential; anything else (none, Basic, malformed) is 401.
pub fn bearer(req: &HttpRequest) -> Result<String, HexoskinApiError> {
    match credentials::authorization(req) {
        Ok(Some(Authorization::Bearer(token))) => Ok(token),
        _ => Err(HexoskinApiError::Unauthenticated),
    }
}

/// The query's pairs, in order.
fn pairs(req: &HttpRequest) -> Result<Vec<(String, String)>, HexoskinApiError> {
    serde_urlencoded::from_str(req.query_string())
        .map_err(|_| HexoskinApiError::bad_request("the query string does not parse"))
}

/// What a list resource allows in its query (§2): its fields (a parameter naming one of
/// them that is not filterable is refused), the filterable ones, and the `order_by` keys.
pub struct ListSpec<F: 'static> {
    pub fields: &'static [&'static str],
    pub filters: &'static [&'static str],
    pub order: &'static [(&'static str, F)],
}

/// One field's filter values: `exact` (`field=` or `field__exact=`) and `in` (a
/// comma-separated list); both given means both must hold.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct FilterValues {
    pub exact: Option<String>,
    pub any_of: Option<Vec<String>>,
}

impl FilterValues {
    /// The values the field may take: `None` when unfiltered. With both operators, the
    /// exact value if the list holds it, else nothing.
    pub fn values(&self) -> Option<Vec<String>> {
        match (&self.exact, &self.any_of) {
            (None, None) => None,
            (Some(e), None) => Some(vec![e.clone()]),
            (None, Some(list)) => Some(list.clone()),
            (Some(e), Some(list)) => Some(list.iter().filter(|v| *v == e).cloned().collect()),
        }
    }
}

/// A list query, checked against its resource's [`ListSpec`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listing<F> {
    pub paging: Paging,
    pub order: Vec<Order<F>>,
    pub filters: Vec<(&'static str, FilterValues)>,
    /// The parameters besides `limit` and `offset`, in order, for `next` and `previous`.
    rest: Vec<(String, String)>,
}

impl<F> Listing<F> {
    /// The filter of `field`, if any.
    pub fn filter(&self, field: &str) -> Option<Vec<String>> {
        self.filters
            .iter()
            .find(|(f, _)| *f == field)
            .and_then(|(_, v)| v.values())
    }

    /// The relative URI of this list at `offset` (the served limit, the same other
    /// parameters).
    pub fn link(&self, path: &str, offset: i64) -> String {
        let mut pairs = self.rest.clone();
        pairs.push(("limit".to_owned(), self.paging.limit.to_string()));
        pairs.push(("offset".to_owned(), offset.to_string()));
        let query = serde_urlencoded::to_string(&pairs).unwrap_or_default();
        format!("{path}?{query}")
    }
}

/// Parses the list parameters of `req` for `spec`: `limit` and `offset` (non-negative
/// integers), the filters, `order_by`. Other parameters are ignored (and kept for links).
pub fn listing<F: Copy>(
    req: &HttpRequest,
    spec: &ListSpec<F>,
) -> Result<Listing<F>, HexoskinApiError> {
    listing_of(pairs(req)?, spec)
}

fn listing_of<F: Copy>(
    pairs: Vec<(String, String)>,
    spec: &ListSpec<F>,
) -> Result<Listing<F>, HexoskinApiError> {
    let (mut limit, mut offset) = (None, None);
    let mut order = Vec::new();
    let mut filters: Vec<(&'static str, FilterValues)> = Vec::new();
    let mut rest = Vec::new();
    for (name, value) in pairs {
        match name.as_str() {
            "limit" => limit = Some(count(&name, &value)?),
            "offset" => offset = Some(count(&name, &value)?),
            _ => {
                if name == "order_by" {
                    for key in value.split(',') {
                        order.push(order_key(key, spec)?);
                    }
                } else if let Some((field, op)) = field_of(&name, spec) {
                    let filter = filter_slot(&mut filters, field, spec)?;
                    match op {
                        "" | "exact" => filter.exact = Some(value.clone()),
                        "in" => filter.any_of = Some(value.split(',').map(str::to_owned).collect()),
                        other => {
                            return Err(HexoskinApiError::bad_request(format!(
                                "the filter {other:?} is not allowed on {field:?}"
                            )))
                        }
                    }
                }
                rest.push((name, value));
            }
        }
    }
    Ok(Listing {
        paging: Paging::new(limit, offset),
        order,
        filters,
        rest,
    })
}

fn count(name: &str, value: &str) -> Result<u64, HexoskinApiError> {
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        // Only the size can fail: a huge value is as good as the largest.
        return Ok(value.parse().unwrap_or(u64::MAX));
    }
    Err(HexoskinApiError::bad_request(format!(
        "{name} must be a non-negative integer, not {value:?}"
    )))
}

fn order_key<F: Copy>(key: &str, spec: &ListSpec<F>) -> Result<Order<F>, HexoskinApiError> {
    let (name, descending) = match key.strip_prefix('-') {
        Some(name) => (name, true),
        None => (key, false),
    };
    spec.order
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, field)| Order {
            field: *field,
            descending,
        })
        .ok_or_else(|| HexoskinApiError::bad_request(format!("no ordering is allowed on {key:?}")))
}

/// The resource field and operator a parameter names (`user_target__in`), if it names a
/// field of the resource at all.
fn field_of<'a, F>(name: &'a str, spec: &ListSpec<F>) -> Option<(&'static str, &'a str)> {
    let (base, op) = name.split_once("__").unwrap_or((name, ""));
    spec.fields
        .iter()
        .find(|f| **f == base)
        .map(|field| (*field, op))
}

fn filter_slot<'a, F>(
    filters: &'a mut Vec<(&'static str, FilterValues)>,
    field: &'static str,
    spec: &ListSpec<F>,
) -> Result<&'a mut FilterValues, HexoskinApiError> {
    if !spec.filters.contains(&field) {
        return Err(HexoskinApiError::bad_request(format!(
            "filtering is not allowed on {field:?}"
        )));
    }
    let index = match filters.iter().position(|(f, _)| *f == field) {
        Some(i) => i,
        None => {
            filters.push((field, FilterValues::default()));
            filters.len() - 1
        }
    };
    Ok(&mut filters[index].1)
}

/// The JSON object of the body (§1.3: parsed as JSON whatever the `Content-Type`).
pub async fn object(
    req: &HttpRequest,
    payload: web::Payload,
) -> Result<Map<String, Value>, HexoskinApiError> {
    let bytes = body::read(req, payload.into_inner()).await?;
    match text::json(&bytes) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(HexoskinApiError::bad_request(
            "the body must be a JSON object",
        )),
        Err(DecodeError::Malformed) => {
            Err(HexoskinApiError::bad_request("the body is not valid JSON"))
        }
        Err(DecodeError::ControlCharacter { field }) => Err(HexoskinApiError::bad_request(
            format!("{field:?} holds a control character"),
        )),
    }
}

/// A numeric path id: decimal digits only (anything else names no object).
pub fn path_id(text: &str) -> Option<i64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// The path of `uri` when it is a canonical URI under `prefix` (relative, or absolute with
/// any scheme and host), with the id it names.
fn uri_id(text: &str, prefix: &str) -> Option<i64> {
    let path = match text.find("://") {
        Some(i) => {
            let after = &text[i + 3..];
            &after[after.find('/')?..]
        }
        None => text,
    };
    let rest = path.strip_prefix(prefix)?;
    path_id(rest.strip_suffix('/').unwrap_or(rest))
}

/// A user reference in text (§1.8): a resource URI, digits, or an e-mail address.
pub fn user_ref_text(text: &str) -> Option<UserRef> {
    if let Some(id) = path_id(text) {
        return Some(UserRef::Id(id));
    }
    if let Some(id) = uri_id(text, "/api/user/") {
        return Some(UserRef::Id(id));
    }
    (text.contains('@') && !text.contains('/')).then(|| UserRef::Email(text.to_owned()))
}

/// A bundle reference in text: a resource URI or digits.
pub fn bundle_ref_text(text: &str) -> Option<i64> {
    path_id(text).or_else(|| uri_id(text, "/api/bundle/"))
}

/// How a body field arrived, before its value is read.
fn field<T>(
    body: &Map<String, Value>,
    name: &str,
    read: impl FnOnce(&Value) -> Field<T>,
) -> Field<T> {
    match body.get(name) {
        None => Field::Absent,
        Some(Value::Null) => Field::Null,
        Some(v) => read(v),
    }
}

/// A user reference field: a URI, an id (integer or digits) or an e-mail address.
pub fn user_field(body: &Map<String, Value>, name: &str) -> Field<UserRef> {
    field(body, name, |v| match v {
        Value::Number(n) => match n.as_i64() {
            Some(id) if id > 0 => Field::Value(UserRef::Id(id)),
            _ => Field::Invalid(format!("no user matches {n}")),
        },
        Value::String(s) => match user_ref_text(s) {
            Some(r) => Field::Value(r),
            None => Field::Invalid(format!("no user matches {s:?}")),
        },
        _ => Field::Invalid("must be a user's resource URI, id or e-mail address".to_owned()),
    })
}

/// A bundle reference field: a URI or an id.
pub fn bundle_field(body: &Map<String, Value>) -> Field<i64> {
    field(body, "bundle", |v| match v {
        Value::Number(n) => match n.as_i64() {
            Some(id) if id > 0 => Field::Value(id),
            _ => Field::Invalid(format!("no bundle matches {n}")),
        },
        Value::String(s) => match bundle_ref_text(s) {
            Some(id) => Field::Value(id),
            None => Field::Invalid(format!("no bundle matches {s:?}")),
        },
        _ => Field::Invalid("must be a bundle's resource URI or id".to_owned()),
    })
}

/// A text field.
pub fn text_field(body: &Map<String, Value>, name: &str) -> Field<String> {
    field(body, name, |v| match v {
        Value::String(s) => Field::Value(s.clone()),
        _ => Field::Invalid("must be a string".to_owned()),
    })
}

/// An integer field (JSON integers only); `message` for anything else.
pub fn integer_field(body: &Map<String, Value>, name: &str, message: &str) -> Field<i64> {
    field(body, name, |v| match v.as_i64() {
        Some(n) => Field::Value(n),
        None => Field::Invalid(message.to_owned()),
    })
}

/// A list of strings.
pub fn strings_field(body: &Map<String, Value>, name: &str, message: &str) -> Field<Vec<String>> {
    field(body, name, |v| {
        let items = v.as_array().map(|items| {
            items
                .iter()
                .map(|i| i.as_str().map(str::to_owned))
                .collect::<Option<Vec<_>>>()
        });
        match items {
            Some(Some(items)) => Field::Value(items),
            _ => Field::Invalid(message.to_owned()),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum O {
        Id,
        Name,
    }

    const SPEC: ListSpec<O> = ListSpec {
        fields: &["id", "name", "email"],
        filters: &["id", "name"],
        order: &[("id", O::Id), ("name", O::Name)],
    };

    fn parse(query: &str) -> Result<Listing<O>, HexoskinApiError> {
        listing_of(serde_urlencoded::from_str(query).unwrap(), &SPEC)
    }

    #[test]
    fn paging_filters_and_order_parse() {
        let l = parse("limit=5&offset=10&name__in=a,b&id=3&order_by=-name,id&format=json").unwrap();
        assert_eq!(
            l.paging,
            Paging {
                limit: 5,
                offset: 10
            }
        );
        assert_eq!(l.filter("name"), Some(vec!["a".into(), "b".into()]));
        assert_eq!(l.filter("id"), Some(vec!["3".into()]));
        assert_eq!(l.order, [Order::desc(O::Name), Order::asc(O::Id)]);
        assert_eq!(
            l.link("/api/x/", 15),
            "/api/x/?name__in=a%2Cb&id=3&order_by=-name%2Cid&format=json&limit=5&offset=15"
        );
    }

    #[test]
    fn both_operators_must_hold() {
        let l = parse("id=3&id__in=1,2").unwrap();
        assert_eq!(l.filter("id"), Some(vec![]));
        let l = parse("id__exact=2&id__in=1,2").unwrap();
        assert_eq!(l.filter("id"), Some(vec!["2".into()]));
    }

    #[test]
    fn bad_lists_are_refused() {
        for query in [
            "limit=-1",
            "offset=x",
            "limit=",
            "email=a@b",
            "id__gt=3",
            "order_by=email",
            "order_by=",
            "name__email=x",
        ] {
            assert!(
                matches!(parse(query), Err(HexoskinApiError::BadRequest(_))),
                "{query}"
            );
        }
        assert!(parse("unknown=1&other__in=3").is_ok());
    }

    #[test]
    fn references_parse() {
        assert_eq!(user_ref_text("7"), Some(UserRef::Id(7)));
        assert_eq!(user_ref_text("/api/user/7/"), Some(UserRef::Id(7)));
        assert_eq!(user_ref_text("/api/user/7"), Some(UserRef::Id(7)));
        assert_eq!(
            user_ref_text("https://id.example/api/user/7/"),
            Some(UserRef::Id(7))
        );
        assert_eq!(
            user_ref_text("Bob@Test.com"),
            Some(UserRef::Email("Bob@Test.com".into()))
        );
        assert_eq!(user_ref_text("/api/bundle/7/"), None);
        assert_eq!(user_ref_text("bob"), None);
        assert_eq!(bundle_ref_text("/api/bundle/3/"), Some(3));
        assert_eq!(bundle_ref_text("/api/user/3/"), None);
    }
}
