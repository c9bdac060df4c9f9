//! The routes a server documents in its own `/openapi.json`, for tests that go over every
//! route, so that a new route is covered as soon as it is documented.

use serde_json::Value;

use crate::Server;

/// One documented operation.
#[derive(Debug, Clone)]
pub struct Operation {
    /// Upper case: `GET`, `POST`, ...
    pub method: String,
    /// As documented, with `{placeholders}`.
    pub path: String,
    /// The operation object of the document.
    pub doc: Value,
}

impl Operation {
    /// The path with every `{name}` segment replaced by `fill(name)`.
    pub fn fill(&self, fill: impl Fn(&str) -> String) -> String {
        self.path
            .split('/')
            .map(
                |seg| match seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                    Some(name) => fill(name),
                    None => seg.to_owned(),
                },
            )
            .collect::<Vec<_>>()
            .join("/")
    }

    /// Whether the documented request body is a form.
    pub fn takes_form(&self) -> bool {
        self.doc["requestBody"]["content"]
            .get("application/x-www-form-urlencoded")
            .is_some()
    }

    /// Whether a successful answer has a JSON body.
    pub fn answers_json(&self) -> bool {
        self.doc["responses"]
            .as_object()
            .expect("responses")
            .iter()
            .any(|(status, r)| {
                status.starts_with('2') && r["content"].get("application/json").is_some()
            })
    }

    /// `METHOD path`, for messages.
    pub fn name(&self) -> String {
        format!("{} {}", self.method, self.path)
    }
}

/// Every operation of the server's `/openapi.json` (GET, PUT, POST, PATCH, DELETE).
pub fn operations(server: &Server) -> Vec<Operation> {
    let doc = server.get("/openapi.json").assert_status(200).json();
    let mut ops = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("path item") {
            if ["get", "put", "post", "patch", "delete"].contains(&method.as_str()) {
                ops.push(Operation {
                    method: method.to_ascii_uppercase(),
                    path: path.clone(),
                    doc: operation.clone(),
                });
            }
        }
    }
    ops
}

/// The KHEOPS operations (kheops.md 1.1): `/capabilities`, `/albums`, `/token/introspect`
/// and their twins under `/api`.
pub fn kheops_operations(server: &Server) -> Vec<Operation> {
    operations(server)
        .into_iter()
        .filter(|op| is_kheops_path(&op.path))
        .collect()
}

/// Whether a path belongs to the KHEOPS family, at the root or under `/api`.
/// Whether a path is the Hexoskin family's (hexoskin-bundles.md 1.1): `/api/<resource>/...`.
pub fn is_hexoskin_path(path: &str) -> bool {
    let Some(rest) = path.strip_prefix("/api/") else {
        return false;
    };
    [
        "user",
        "account",
        "bundle",
        "bundle_permission",
        "bundle_permission_request",
    ]
    .contains(&rest.split('/').next().unwrap_or(""))
}

pub fn is_kheops_path(path: &str) -> bool {
    let rest = path.strip_prefix("/api").unwrap_or(path);
    ["/capabilities", "/albums", "/token/introspect"]
        .iter()
        .any(|p| rest == *p || rest.starts_with(&format!("{p}/")))
}
