//! Validates a request body against an OpenAPI 3.1 document: finds the operation for the
//! method and path, takes its JSON request schema and checks the body with `jsonschema`.
//!
//! Generic on purpose (no Discord knowledge), so what the fakes accept is what the platform's
//! published spec accepts, and cannot drift from it.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Mutex;

use serde_json::{json, Value};

pub struct OpenApi {
    doc: Value,
    /// Path prefix of the server URL (`/api/v10`), stripped from request paths.
    base_path: String,
    compiled: Mutex<HashMap<(String, String), std::sync::Arc<jsonschema::Validator>>>,
}

impl OpenApi {
    pub fn load(path: &Path) -> OpenApi {
        let text = std::fs::read_to_string(path).unwrap_or_else(|e| {
            panic!(
                "cannot read the OpenAPI spec {}: {e} (the repository expects ../shared beside it)",
                path.display()
            )
        });
        let doc: Value = serde_json::from_str(&text).expect("the OpenAPI spec is JSON");
        let base_path = doc["servers"][0]["url"]
            .as_str()
            .and_then(|u| u.split_once("://").map(|(_, rest)| rest))
            .and_then(|rest| rest.find('/').map(|i| rest[i..].to_string()))
            .unwrap_or_default();
        OpenApi {
            doc,
            base_path,
            compiled: Mutex::new(HashMap::new()),
        }
    }

    /// The path template (`/channels/{channel_id}/messages`) for a concrete request path,
    /// preferring the template with the most literal segments.
    pub fn template_for(&self, path: &str) -> Option<String> {
        let path = path.split('?').next().unwrap_or(path);
        let path = path.strip_prefix(&self.base_path).unwrap_or(path);
        let want: Vec<&str> = path.trim_end_matches('/').split('/').collect();
        let mut best: Option<(usize, &String)> = None;
        for template in self.doc["paths"].as_object()?.keys() {
            let have: Vec<&str> = template.split('/').collect();
            if have.len() != want.len() {
                continue;
            }
            let mut literal = 0;
            let fits = have.iter().zip(&want).all(|(h, w)| {
                if h.starts_with('{') && h.ends_with('}') {
                    !w.is_empty()
                } else {
                    literal += 1;
                    h == w
                }
            });
            if fits && best.is_none_or(|(n, _)| literal > n) {
                best = Some((literal, template));
            }
        }
        best.map(|(_, t)| t.clone())
    }

    /// Problems with sending `body` (None: no body) as `method path`; empty when valid.
    pub fn check(&self, method: &str, path: &str, body: Option<&Value>) -> Vec<String> {
        let Some(template) = self.template_for(path) else {
            return vec![format!("{method} {path}: no such path in the spec")];
        };
        let op = &self.doc["paths"][&template][method.to_ascii_lowercase()];
        if op.is_null() {
            return vec![format!(
                "{method} {template}: no such operation in the spec"
            )];
        }
        let schema = &op["requestBody"]["content"]["application/json"]["schema"];
        match (body, schema.is_null()) {
            (None, true) => return Vec::new(),
            (None, false) => {
                if op["requestBody"]["required"] == json!(true) {
                    return vec![format!(
                        "{method} {template}: the spec requires a JSON body"
                    )];
                }
                return Vec::new();
            }
            (Some(_), true) => {
                return vec![format!("{method} {template}: the spec takes no JSON body")];
            }
            (Some(_), false) => {}
        }
        let validator = self.validator(method, &template, schema);
        let body = body.expect("checked above");
        validator
            .iter_errors(body)
            .map(|e| format!("{method} {template}: {} at {}", e, e.instance_path()))
            .collect()
    }

    fn validator(
        &self,
        method: &str,
        template: &str,
        schema: &Value,
    ) -> std::sync::Arc<jsonschema::Validator> {
        let key = (method.to_string(), template.to_string());
        if let Some(v) = self.compiled.lock().unwrap().get(&key) {
            return v.clone();
        }
        // The operation's schema as the root of a document that also holds the spec's
        // components, so `#/components/schemas/...` references resolve in place.
        let mut root = schema.as_object().cloned().unwrap_or_default();
        root.insert("components".into(), self.doc["components"].clone());
        let root = Value::Object(root);
        let v = jsonschema::options()
            .with_draft(jsonschema::Draft::Draft202012)
            .should_validate_formats(false)
            .build(&root)
            .unwrap_or_else(|e| {
                panic!("cannot compile the spec's schema for {method} {template}: {e}")
            });
        let v = std::sync::Arc::new(v);
        self.compiled.lock().unwrap().insert(key, v.clone());
        v
    }
}
