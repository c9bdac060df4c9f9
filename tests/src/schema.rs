//! Real answers checked against the server's own `/openapi.json`: the response of the
//! documented status, its media type, and the body against its schema, `$ref`s resolved in
//! the document.
//!
//! The validator covers the JSON Schema that utoipa writes for OpenAPI 3.1: `$ref`, `type`
//! (one or a list, `"null"` included), `enum`, `const`, `properties`, `required`,
//! `additionalProperties`, `items`, `oneOf`/`anyOf`/`allOf`, the `date-time`, `int32` and
//! `int64` formats, and the numeric and length bounds. A keyword it does not know fails
//! the check rather than passing unseen.

use serde_json::{Map, Value};

use std::collections::BTreeSet;

use crate::routes::Operation;
use crate::{Resp, Server};

/// Annotations: they say nothing about which values are valid.
const ANNOTATIONS: [&str; 10] = [
    "description",
    "example",
    "examples",
    "title",
    "default",
    "deprecated",
    "readOnly",
    "writeOnly",
    "externalDocs",
    "contentMediaType",
];

/// The server's OpenAPI document.
pub struct Doc {
    pub doc: Value,
}

/// A media type without its parameters, lower-cased: `text/plain; charset=utf-8` ->
/// `text/plain`.
pub fn essence(media: &str) -> String {
    media
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

impl Doc {
    pub fn fetch(server: &Server) -> Doc {
        Doc {
            doc: server.get("/openapi.json").assert_status(200).json(),
        }
    }

    /// The operation object of `method` (any case) on the documented `path`.
    #[track_caller]
    pub fn operation(&self, method: &str, path: &str) -> &Value {
        let op = &self.doc["paths"][path][method.to_ascii_lowercase()];
        assert!(op.is_object(), "{method} {path} is not documented");
        op
    }

    /// The response object `method path` documents for `status`.
    #[track_caller]
    pub fn response(&self, method: &str, path: &str, status: u16) -> &Value {
        let response = &self.operation(method, path)["responses"][status.to_string()];
        assert!(
            response.is_object(),
            "{method} {path} answered {status}, which it does not document"
        );
        response
    }

    /// The documented path that `url` (a path with an optional query) is an instance of
    /// for `method`: the one with the most literal segments among those that match.
    #[track_caller]
    pub fn template(&self, method: &str, url: &str) -> String {
        let path = url.split('?').next().unwrap_or(url);
        let segments: Vec<&str> = path.split('/').collect();
        let method = method.to_ascii_lowercase();
        let paths = self.doc["paths"].as_object().expect("paths");
        paths
            .iter()
            .filter(|(_, item)| item.get(&method).is_some())
            .filter_map(|(template, _)| {
                let parts: Vec<&str> = template.split('/').collect();
                if parts.len() != segments.len() {
                    return None;
                }
                let mut literal = 0;
                for (part, segment) in parts.iter().zip(&segments) {
                    if part.starts_with('{') && part.ends_with('}') {
                        if segment.is_empty() {
                            return None;
                        }
                    } else if part == segment {
                        literal += 1;
                    } else {
                        return None;
                    }
                }
                Some((literal, template))
            })
            .max_by_key(|(literal, _)| *literal)
            .map(|(_, template)| template.clone())
            .unwrap_or_else(|| panic!("no documented operation for {method} {url}"))
    }

    /// What `$ref` points to (a JSON pointer into this document).
    #[track_caller]
    pub fn resolve(&self, reference: &str) -> &Value {
        let pointer = reference
            .strip_prefix('#')
            .unwrap_or_else(|| panic!("{reference}: only references into the document"));
        self.doc
            .pointer(pointer)
            .unwrap_or_else(|| panic!("{reference} points to nothing in the document"))
    }

    /// Asserts that `resp`, the answer of `method` on the documented `path`, is documented:
    /// its status, its media type, and its body against the schema. Returns the body as
    /// JSON (`Null` when there is none).
    #[track_caller]
    pub fn check(&self, method: &str, path: &str, resp: &Resp) -> Value {
        let response = self.response(method, path, resp.status);
        let what = format!("{method} {path} {}", resp.status);
        let Some(content) = response.get("content").and_then(Value::as_object) else {
            assert!(
                resp.body.is_empty(),
                "{what}: no body is documented, got {:?}",
                resp.body
            );
            return Value::Null;
        };
        let answered = essence(&resp.header("content-type").unwrap_or_default());
        let (_, media) = content
            .iter()
            .find(|(media, _)| essence(media) == answered)
            .unwrap_or_else(|| {
                panic!(
                    "{what}: answered {answered:?}, documented {:?}",
                    content.keys().collect::<Vec<_>>()
                )
            });
        let body = if answered == "application/json" || answered.ends_with("+json") {
            resp.json()
        } else {
            Value::String(resp.body.clone())
        };
        let errors = self.errors(&media["schema"], &body);
        assert!(
            errors.is_empty(),
            "{what}: the body does not match its schema:\n  {}\nbody: {body}",
            errors.join("\n  ")
        );
        body
    }

    /// Where `value` breaks `schema` (empty when it is valid).
    pub fn errors(&self, schema: &Value, value: &Value) -> Vec<String> {
        let mut errors = Vec::new();
        self.validate(schema, value, "$", &mut errors);
        errors
    }

    fn validate(&self, schema: &Value, value: &Value, at: &str, errors: &mut Vec<String>) {
        let schema = match schema {
            Value::Bool(true) => return,
            Value::Bool(false) => {
                errors.push(format!("{at}: no value is allowed here"));
                return;
            }
            Value::Object(schema) => schema,
            other => panic!("{at}: {other} is not a schema"),
        };
        for (keyword, arg) in schema {
            match keyword.as_str() {
                "$ref" => {
                    let target = self.resolve(arg.as_str().expect("$ref is a string"));
                    self.validate(target, value, at, errors);
                }
                "type" => {
                    let types: Vec<&str> = match arg {
                        Value::String(t) => vec![t.as_str()],
                        Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
                        other => panic!("{at}: type {other}"),
                    };
                    if !types.iter().any(|t| is_type(value, t)) {
                        errors.push(format!("{at}: {value} is not of type {arg}"));
                    }
                }
                "enum" => {
                    let values = arg.as_array().expect("enum is a list");
                    if !values.contains(value) {
                        errors.push(format!("{at}: {value} is not one of {arg}"));
                    }
                }
                "const" => {
                    if value != arg {
                        errors.push(format!("{at}: {value} is not {arg}"));
                    }
                }
                // Checked together below.
                "properties" | "required" | "additionalProperties" => {}
                "items" => {
                    if let Value::Array(items) = value {
                        for (i, item) in items.iter().enumerate() {
                            self.validate(arg, item, &format!("{at}[{i}]"), errors);
                        }
                    }
                }
                "oneOf" | "anyOf" | "allOf" => {
                    let branches = arg.as_array().expect("a list of schemas");
                    let results: Vec<Vec<String>> =
                        branches.iter().map(|b| self.errors(b, value)).collect();
                    let valid = results.iter().filter(|e| e.is_empty()).count();
                    let ok = match keyword.as_str() {
                        "oneOf" => valid == 1,
                        "anyOf" => valid >= 1,
                        _ => valid == branches.len(),
                    };
                    if !ok {
                        errors.push(format!(
                            "{at}: {keyword} matched {valid} of {} branches: {results:?}",
                            branches.len()
                        ));
                    }
                }
                "format" => format(arg.as_str().expect("format is a string"), value, at, errors),
                "minimum" | "maximum" => {
                    if let (Some(v), Some(bound)) = (value.as_f64(), arg.as_f64()) {
                        let ok = if keyword == "minimum" {
                            v >= bound
                        } else {
                            v <= bound
                        };
                        if !ok {
                            errors.push(format!("{at}: {v} is beyond {keyword} {bound}"));
                        }
                    }
                }
                "minLength" | "maxLength" | "minItems" | "maxItems" => {
                    let len = match value {
                        Value::String(s) if keyword.ends_with("Length") => s.chars().count(),
                        Value::Array(a) if keyword.ends_with("Items") => a.len(),
                        _ => continue,
                    };
                    let bound = arg.as_u64().expect("a length") as usize;
                    if (keyword.starts_with("min") && len < bound)
                        || (keyword.starts_with("max") && len > bound)
                    {
                        errors.push(format!("{at}: length {len} is beyond {keyword} {bound}"));
                    }
                }
                other if ANNOTATIONS.contains(&other) => {}
                other => panic!("{at}: the schema keyword {other:?} is not supported"),
            }
        }
        if let Value::Object(object) = value {
            let keywords = ["properties", "required", "additionalProperties"];
            if keywords.iter().any(|k| schema.contains_key(*k)) {
                self.object(schema, object, at, errors);
            }
        }
    }

    fn object(
        &self,
        schema: &Map<String, Value>,
        object: &Map<String, Value>,
        at: &str,
        errors: &mut Vec<String>,
    ) {
        let empty = Map::new();
        let properties = schema
            .get("properties")
            .and_then(Value::as_object)
            .unwrap_or(&empty);
        for name in schema
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
        {
            if !object.contains_key(name) {
                errors.push(format!("{at}: the required {name:?} is missing"));
            }
        }
        for (name, value) in object {
            let here = format!("{at}.{name}");
            match (properties.get(name), schema.get("additionalProperties")) {
                (Some(property), _) => self.validate(property, value, &here, errors),
                (None, None) => {}
                (None, Some(additional)) => {
                    if additional == &Value::Bool(false) {
                        errors.push(format!("{here}: not documented (additionalProperties)"));
                    } else {
                        self.validate(additional, value, &here, errors);
                    }
                }
            }
        }
    }

    /// Every schema `schema` leads to through `$ref`s, subschemas included, each once (by
    /// its reference name, or inline), for checks over a whole response shape.
    pub fn reachable<'a>(&'a self, schema: &'a Value) -> Vec<(String, &'a Value)> {
        let mut seen = Vec::new();
        let mut out = Vec::new();
        self.walk("(inline)", schema, &mut seen, &mut out);
        out
    }

    fn walk<'a>(
        &'a self,
        name: &str,
        schema: &'a Value,
        seen: &mut Vec<String>,
        out: &mut Vec<(String, &'a Value)>,
    ) {
        let Value::Object(map) = schema else {
            return;
        };
        if let Some(reference) = map.get("$ref").and_then(Value::as_str) {
            if seen.iter().any(|s| s == reference) {
                return;
            }
            seen.push(reference.to_owned());
            let target = self.resolve(reference);
            let name = reference.rsplit('/').next().unwrap_or(reference);
            self.walk(name, target, seen, out);
        }
        out.push((name.to_owned(), schema));
        for key in ["items", "additionalProperties"] {
            if let Some(sub) = map.get(key) {
                self.walk(&format!("{name}.{key}"), sub, seen, out);
            }
        }
        for (prop, sub) in map
            .get("properties")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            self.walk(&format!("{name}.{prop}"), sub, seen, out);
        }
        for key in ["oneOf", "anyOf", "allOf"] {
            for sub in map.get(key).and_then(Value::as_array).into_iter().flatten() {
                self.walk(&format!("{name}.{key}"), sub, seen, out);
            }
        }
    }
}

fn is_type(value: &Value, t: &str) -> bool {
    match t {
        "null" => value.is_null(),
        "boolean" => value.is_boolean(),
        "string" => value.is_string(),
        "number" => value.is_number(),
        "integer" => value.is_i64() || value.is_u64(),
        "array" => value.is_array(),
        "object" => value.is_object(),
        other => panic!("unknown type {other:?}"),
    }
}

fn format(format: &str, value: &Value, at: &str, errors: &mut Vec<String>) {
    match format {
        "date-time" => {
            if let Some(s) = value.as_str() {
                let rfc3339 = &time::format_description::well_known::Rfc3339;
                if time::OffsetDateTime::parse(s, rfc3339).is_err() {
                    errors.push(format!("{at}: {s:?} is not an RFC 3339 date-time"));
                }
            }
        }
        "int32" | "int64" => {
            if value.is_number() {
                let fits = match format {
                    "int32" => value.as_i64().and_then(|v| i32::try_from(v).ok()).is_some(),
                    _ => value.as_i64().is_some(),
                };
                if !fits {
                    errors.push(format!("{at}: {value} is not an {format}"));
                }
            }
        }
        "float" | "double" => {}
        "uint8" | "uint16" | "uint32" | "uint64" => {
            if value.is_number() && value.as_u64().is_none() {
                errors.push(format!("{at}: {value} is not an {format}"));
            }
        }
        other => panic!("{at}: the format {other:?} is not supported"),
    }
}

// ---------------------------------------------------------------------------------------
// Checks shared by the OpenAPI suites.

pub fn operation_id(op: &Operation) -> &str {
    op.doc["operationId"].as_str().unwrap_or_default()
}

/// The component a `{"$ref": "#/components/schemas/X"}` names, which must exist.
#[track_caller]
pub fn component<'d>(doc: &'d Value, reference: &str) -> &'d Value {
    let name = reference
        .strip_prefix("#/components/schemas/")
        .unwrap_or_else(|| panic!("{reference} is not a component reference"));
    let schema = &doc["components"]["schemas"][name];
    assert!(
        schema.is_object(),
        "{reference} is not in components.schemas"
    );
    schema
}

/// A schema that says more than "an object" (or "anything").
pub fn is_informative(doc: &Value, schema: &Value) -> bool {
    if let Some(reference) = schema["$ref"].as_str() {
        return is_informative(doc, component(doc, reference));
    }
    ["properties", "oneOf", "anyOf", "allOf", "items"]
        .iter()
        .any(|k| schema.get(*k).is_some())
}

/// Why `value` does not match `schema`, if it does not (the kit's validator).
pub fn mismatch(doc: &Value, schema: &Value, value: &Value) -> Option<String> {
    let errors = Doc { doc: doc.clone() }.errors(schema, value);
    (!errors.is_empty()).then(|| errors.join("\n  "))
}

pub fn assert_matches(doc: &Value, schema: &Value, value: &Value, what: &str) {
    if let Some(why) = mismatch(doc, schema, value) {
        panic!("{what}: {why}\nvalue: {value}\nschema: {schema}");
    }
}

/// Sends Keyrock requests, and checks each request body and each answer against the
/// operation the document gives for its method and path.
pub struct Checked<'s> {
    pub s: &'s Server,
    pub doc: Value,
    pub ops: Vec<Operation>,
    /// (operationId, status) of every answer checked.
    pub seen: BTreeSet<(String, u16)>,
}

impl Checked<'_> {
    /// The documented operation serving `method path`: the template that matches with the
    /// most literal segments.
    #[track_caller]
    pub fn operation(&self, method: &str, path: &str) -> &Operation {
        let segments: Vec<&str> = path.split('/').collect();
        self.ops
            .iter()
            .filter(|op| op.method == method)
            .filter_map(|op| {
                let template: Vec<&str> = op.path.split('/').collect();
                if template.len() != segments.len() {
                    return None;
                }
                let mut literal = 0;
                for (t, s) in template.iter().zip(&segments) {
                    if t.starts_with('{') {
                        continue;
                    }
                    if t != s {
                        return None;
                    }
                    literal += 1;
                }
                Some((literal, op))
            })
            .max_by_key(|(literal, _)| *literal)
            .map(|(_, op)| op)
            .unwrap_or_else(|| panic!("{method} {path} is not documented"))
    }

    #[track_caller]
    pub fn send(
        &mut self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> Resp {
        self.send_with(method, path, token, body, &[])
    }

    #[track_caller]
    pub fn send_with(
        &mut self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
        headers: &[(&str, &str)],
    ) -> Resp {
        let op = self.operation(method, path).clone();
        let name = format!("{method} {path} ({})", operation_id(&op));
        let mut req = self.s.request(method, path);
        if let Some(token) = token {
            req = req.token(token);
        }
        for (k, v) in headers {
            req = req.header(k, v);
        }
        req = match body {
            Some(body) => {
                let schema = &op.doc["requestBody"]["content"]["application/json"]["schema"];
                assert!(
                    schema.is_object(),
                    "{name}: no documented JSON request body"
                );
                assert_matches(&self.doc, schema, body, &format!("{name} request"));
                req.json(body)
            }
            None if matches!(method, "POST" | "PUT" | "PATCH") => {
                req.header("Content-Type", "application/json")
            }
            None => req,
        };
        let resp = req.send();
        let documented = &op.doc["responses"][resp.status.to_string()];
        assert!(
            documented.is_object(),
            "{name}: {} is not documented: {}",
            resp.status,
            resp.body
        );
        match documented["content"]["application/json"]["schema"] {
            Value::Null => assert!(resp.body.is_empty(), "{name}: {}", resp.body),
            ref schema => {
                resp.assert_json_type();
                let what = format!("{name} {}", resp.status);
                assert_matches(&self.doc, schema, &resp.json(), &what);
            }
        }
        self.seen
            .insert((operation_id(&op).to_owned(), resp.status));
        resp
    }

    #[track_caller]
    pub fn expect(
        &mut self,
        status: u16,
        method: &str,
        path: &str,
        token: &str,
        body: Option<&Value>,
    ) -> Value {
        let resp = self.send(method, path, Some(token), body);
        resp.assert_status(status);
        if resp.body.is_empty() {
            Value::Null
        } else {
            resp.json()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn doc() -> Doc {
        Doc {
            doc: json!({"components": {"schemas": {
                "Time": {"type": "string", "format": "date-time"},
                "A": {"type": "object", "required": ["a"], "additionalProperties": false,
                      "properties": {"a": {"type": "boolean", "enum": [true]},
                                     "t": {"$ref": "#/components/schemas/Time"},
                                     "n": {"type": ["integer", "null"], "format": "int64"}}},
                "B": {"type": "object", "required": ["b"], "additionalProperties": false,
                      "properties": {"b": {"type": "array", "items": {"type": "string"}}}},
                "AB": {"oneOf": [{"$ref": "#/components/schemas/A"},
                                 {"$ref": "#/components/schemas/B"}]},
            }}}),
        }
    }

    #[test]
    fn the_validator_checks_what_it_reads() {
        let d = doc();
        let ab = json!({"$ref": "#/components/schemas/AB"});
        assert!(d.errors(&ab, &json!({"a": true})).is_empty());
        assert!(d
            .errors(
                &ab,
                &json!({"a": true, "t": "2018-10-22T14:20:59.790Z", "n": null})
            )
            .is_empty());
        assert!(d.errors(&ab, &json!({"b": ["x"]})).is_empty());
        for bad in [
            json!({"a": false}),
            json!({"a": true, "extra": 1}),
            json!({"a": true, "t": "yesterday"}),
            json!({"a": true, "n": 1.5}),
            json!({"b": [1]}),
            json!({"a": true, "b": []}),
            json!({}),
            json!([]),
        ] {
            assert!(!d.errors(&ab, &bad).is_empty(), "{bad} passed");
        }
        let names: Vec<String> = d.reachable(&ab).into_iter().map(|(n, _)| n).collect();
        for name in ["AB", "A", "B", "Time", "A.a", "B.b.items"] {
            assert!(names.iter().any(|n| n == name), "{name} not in {names:?}");
        }
    }
}
