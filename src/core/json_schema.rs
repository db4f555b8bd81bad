//! Checks a tool's `structuredContent` against its `outputSchema` and lists every violation, each
//! with the JSON Pointer of the value and a sentence. The 2020-12 keywords tool schemas use are
//! covered: `type`, `enum`, `const`, `properties`, `required`, `additionalProperties`,
//! `minProperties`/`maxProperties`, `dependentRequired`, `items`, `prefixItems`,
//! `minItems`/`maxItems`, `uniqueItems`, `contains`, `minLength`/`maxLength`, `minimum`/`maximum`,
//! `exclusiveMinimum`/`exclusiveMaximum`, `multipleOf`, `allOf`/`anyOf`/`oneOf`/`not`,
//! `if`/`then`/`else`, and `$ref` within the schema (`#`, `#/$defs/…`, `#/definitions/…`).
//! Not checked, and named as such: `pattern`, `patternProperties`, `format` (a regular-expression
//! engine would cost the page more than the rest together) and references to other documents,
//! which are never fetched.

use serde_json::{Map, Value};

/// Nesting followed at most (a `$ref` cycle ends here).
const MAX_DEPTH: usize = 64;
/// Violations listed at most.
const MAX_VIOLATIONS: usize = 100;
/// Schema nodes checked at most: nested `anyOf`/`oneOf` from a hostile server could otherwise
/// take exponential time on the page's one thread.
const MAX_STEPS: usize = 100_000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// JSON Pointer to the value, `""` for the whole.
    pub at: String,
    pub sentence: String,
}

/// Every violation of `schema` by `value` (at most [`MAX_VIOLATIONS`]), and the keywords seen
/// that were not checked.
pub fn check(schema: &Value, value: &Value) -> (Vec<Violation>, Vec<&'static str>) {
    let mut run = Run { root: schema, out: Vec::new(), unchecked: Vec::new(), steps: MAX_STEPS };
    run.check(schema, value, "", 0);
    (run.out, run.unchecked)
}

struct Run<'a> {
    root: &'a Value,
    out: Vec<Violation>,
    unchecked: Vec<&'static str>,
    /// Steps left, shared with the trials of `passes`.
    steps: usize,
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn is_type(value: &Value, name: &str) -> bool {
    match name {
        "integer" => value.as_f64().is_some_and(|n| n.fract() == 0.0),
        "number" => value.is_number(),
        other => type_name(value) == other,
    }
}

/// Equality as JSON Schema means it: numbers by value (1 equals 1.0).
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

/// A member name as a JSON Pointer token.
fn token(name: &str) -> String {
    name.replace('~', "~0").replace('/', "~1")
}

fn shown(value: &Value) -> String {
    let text = value.to_string();
    if text.chars().count() > 60 {
        format!("{}…", text.chars().take(60).collect::<String>())
    } else {
        text
    }
}

impl<'a> Run<'a> {
    fn say(&mut self, at: &str, sentence: String) {
        if self.out.len() < MAX_VIOLATIONS {
            self.out.push(Violation { at: at.to_owned(), sentence });
        }
    }

    fn not_checked(&mut self, keyword: &'static str) {
        if !self.unchecked.contains(&keyword) {
            self.unchecked.push(keyword);
        }
    }

    /// Whether `value` meets `schema`, without listing why (for `anyOf`, `oneOf`, `not`, `if`).
    fn passes(&mut self, schema: &'a Value, value: &Value, depth: usize) -> bool {
        let mut trial =
            Run { root: self.root, out: Vec::new(), unchecked: Vec::new(), steps: self.steps };
        trial.check(schema, value, "", depth);
        for keyword in trial.unchecked {
            self.not_checked(keyword);
        }
        self.steps = trial.steps;
        trial.out.is_empty()
    }

    /// The schema a local `$ref` names (a JSON Pointer in the fragment, percent-decoded).
    fn resolve(&self, reference: &str) -> Option<&'a Value> {
        let pointer = reference.strip_prefix('#')?.as_bytes();
        let mut bytes = Vec::with_capacity(pointer.len());
        let mut i = 0;
        while i < pointer.len() {
            let hex = pointer.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
            match (pointer[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
                (b'%', Some(byte)) => {
                    bytes.push(byte);
                    i += 3;
                }
                (byte, _) => {
                    bytes.push(byte);
                    i += 1;
                }
            }
        }
        self.root.pointer(std::str::from_utf8(&bytes).ok()?)
    }

    fn check(&mut self, schema: &'a Value, value: &Value, at: &str, depth: usize) {
        if self.steps == 0 {
            return self.not_checked("the rest of a schema too complex to check");
        }
        self.steps -= 1;
        if depth > MAX_DEPTH {
            return self.say(at, "The schema nests too deeply to check here.".to_owned());
        }
        let s = match schema {
            Value::Bool(true) => return,
            Value::Bool(false) => return self.say(at, "No value is allowed here.".to_owned()),
            Value::Object(s) => s,
            _ => return,
        };
        if let Some(reference) = s.get("$ref").and_then(Value::as_str) {
            match self.resolve(reference) {
                Some(target) => self.check(target, value, at, depth + 1),
                None => self.not_checked("$ref to another document"),
            }
        }
        self.check_type(s, value, at);
        if let Some(Value::Array(options)) = s.get("enum")
            && !options.iter().any(|o| same(o, value))
        {
            self.say(at, format!("{} is not one of the allowed values.", shown(value)));
        }
        if let Some(expected) = s.get("const")
            && !same(expected, value)
        {
            self.say(at, format!("Must be {}, is {}.", shown(expected), shown(value)));
        }
        match value {
            Value::Object(members) => self.check_object(s, members, at, depth),
            Value::Array(items) => self.check_array(s, items, at, depth),
            Value::String(text) => self.check_string(s, text, at),
            Value::Number(_) => self.check_number(s, value, at),
            _ => {}
        }
        self.check_combinations(s, value, at, depth);
        for keyword in ["pattern", "patternProperties", "format"] {
            if s.contains_key(keyword) {
                self.not_checked(keyword);
            }
        }
    }

    fn check_type(&mut self, s: &Map<String, Value>, value: &Value, at: &str) {
        let allowed: Vec<&str> = match s.get("type") {
            Some(Value::String(t)) => vec![t.as_str()],
            Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
            _ => return,
        };
        if !allowed.iter().any(|t| is_type(value, t)) {
            let sentence = format!(
                "Must be {}, is {} {}.",
                allowed.join(" or "),
                type_name(value),
                shown(value)
            );
            self.say(at, sentence);
        }
    }

    /// `count` (of members, items or characters) against the schema's `min…`/`max…` keywords.
    fn count_within(
        &mut self,
        s: &Map<String, Value>,
        at: &str,
        count: u64,
        [min_key, max_key]: [&str; 2],
        noun: &str,
    ) {
        if let Some(min) = s.get(min_key).and_then(Value::as_u64)
            && count < min
        {
            self.say(at, format!("Needs at least {min} {noun}, has {count}."));
        }
        if let Some(max) = s.get(max_key).and_then(Value::as_u64)
            && count > max
        {
            self.say(at, format!("Allows at most {max} {noun}, has {count}."));
        }
    }

    fn check_object(
        &mut self,
        s: &'a Map<String, Value>,
        members: &Map<String, Value>,
        at: &str,
        depth: usize,
    ) {
        if let Some(Value::Array(required)) = s.get("required") {
            for name in required.iter().filter_map(Value::as_str) {
                if !members.contains_key(name) {
                    self.say(at, format!("The member {name:?} is required and missing."));
                }
            }
        }
        if let Some(Value::Object(dependent)) = s.get("dependentRequired") {
            for (name, needs) in dependent.iter().filter(|(name, _)| members.contains_key(*name)) {
                for need in needs.as_array().into_iter().flatten().filter_map(Value::as_str) {
                    if !members.contains_key(need) {
                        self.say(at, format!("With {name:?}, the member {need:?} is required."));
                    }
                }
            }
        }
        self.count_within(
            s,
            at,
            members.len() as u64,
            ["minProperties", "maxProperties"],
            "members",
        );
        let properties = s.get("properties").and_then(Value::as_object);
        for (name, member) in members {
            let here = format!("{at}/{}", token(name));
            match properties.and_then(|p| p.get(name)) {
                Some(sub) => self.check(sub, member, &here, depth + 1),
                None => match s.get("additionalProperties") {
                    Some(Value::Bool(false)) => {
                        self.say(at, format!("The member {name:?} is not allowed."));
                    }
                    Some(extra) => self.check(extra, member, &here, depth + 1),
                    None => {}
                },
            }
        }
    }

    fn check_array(&mut self, s: &'a Map<String, Value>, items: &[Value], at: &str, depth: usize) {
        self.count_within(s, at, items.len() as u64, ["minItems", "maxItems"], "items");
        if s.get("uniqueItems") == Some(&Value::Bool(true)) {
            for (i, a) in items.iter().enumerate() {
                if let Some(j) = items[..i].iter().position(|b| same(a, b)) {
                    self.say(at, format!("Items {j} and {i} are the same; they must differ."));
                }
            }
        }
        let first = match s.get("prefixItems") {
            Some(Value::Array(prefix)) => {
                for (i, (sub, item)) in prefix.iter().zip(items).enumerate() {
                    self.check(sub, item, &format!("{at}/{i}"), depth + 1);
                }
                prefix.len()
            }
            _ => 0,
        };
        if let Some(sub) = s.get("items") {
            for (i, item) in items.iter().enumerate().skip(first) {
                self.check(sub, item, &format!("{at}/{i}"), depth + 1);
            }
        }
        if let Some(sub) = s.get("contains")
            && !items.iter().any(|item| self.passes(sub, item, depth + 1))
        {
            self.say(at, "No item is of the kind the schema asks the list to contain.".to_owned());
        }
    }

    fn check_string(&mut self, s: &Map<String, Value>, text: &str, at: &str) {
        self.count_within(
            s,
            at,
            text.chars().count() as u64,
            ["minLength", "maxLength"],
            "characters",
        );
    }

    fn check_number(&mut self, s: &Map<String, Value>, value: &Value, at: &str) {
        let Some(n) = value.as_f64() else { return };
        // Bounds are written as the schema wrote them: `f64`'s own formatting costs the page 8 KB.
        let bound = |key: &str| s.get(key).and_then(|b| Some((b.as_f64()?, b.to_string())));
        let shown = shown(value);
        if let Some((min, text)) = bound("minimum")
            && n < min
        {
            self.say(at, format!("{shown} is below the minimum {text}."));
        }
        if let Some((max, text)) = bound("maximum")
            && n > max
        {
            self.say(at, format!("{shown} is above the maximum {text}."));
        }
        if let Some((min, text)) = bound("exclusiveMinimum")
            && n <= min
        {
            self.say(at, format!("{shown} must be above {text}."));
        }
        if let Some((max, text)) = bound("exclusiveMaximum")
            && n >= max
        {
            self.say(at, format!("{shown} must be below {text}."));
        }
        if let Some((step, text)) = bound("multipleOf").filter(|(m, _)| *m > 0.0)
            && ((n / step).round() * step - n).abs() > 1e-9 * n.abs().max(1.0)
        {
            self.say(at, format!("{shown} is not a multiple of {text}."));
        }
    }

    fn check_combinations(
        &mut self,
        s: &'a Map<String, Value>,
        value: &Value,
        at: &str,
        depth: usize,
    ) {
        if let Some(Value::Array(all)) = s.get("allOf") {
            for sub in all {
                self.check(sub, value, at, depth + 1);
            }
        }
        if let Some(Value::Array(any)) = s.get("anyOf")
            && !any.iter().any(|sub| self.passes(sub, value, depth + 1))
        {
            self.say(at, "Matches none of the shapes the schema allows (anyOf).".to_owned());
        }
        if let Some(Value::Array(one)) = s.get("oneOf") {
            let matching = one.iter().filter(|sub| self.passes(sub, value, depth + 1)).count();
            if matching != 1 {
                let sentence =
                    format!("Must match exactly one of the shapes (oneOf), matches {matching}.");
                self.say(at, sentence);
            }
        }
        if let Some(sub) = s.get("not")
            && self.passes(sub, value, depth + 1)
        {
            self.say(at, "Matches a shape the schema forbids (not).".to_owned());
        }
        if let Some(condition) = s.get("if") {
            let branch = if self.passes(condition, value, depth + 1) { "then" } else { "else" };
            if let Some(sub) = s.get(branch) {
                self.check(sub, value, at, depth + 1);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn violations(schema: Value, value: Value) -> Vec<(String, String)> {
        check(&schema, &value).0.into_iter().map(|v| (v.at, v.sentence)).collect()
    }

    #[test]
    fn a_conforming_value_has_no_violations() {
        let schema = json!({
            "type": "object",
            "properties": {
                "count": {"type": "integer", "minimum": 0},
                "tags": {"type": "array", "items": {"type": "string"}, "uniqueItems": true},
                "kind": {"enum": ["a", "b"]},
            },
            "required": ["count"],
            "additionalProperties": false,
        });
        assert_eq!(
            violations(schema, json!({"count": 2.0, "tags": ["x", "y"], "kind": "a"})),
            vec![]
        );
    }

    #[test]
    fn each_violation_is_listed_with_where_it_is() {
        let schema = json!({
            "type": "object",
            "properties": {
                "count": {"type": "integer", "minimum": 0},
                "tags": {"type": "array", "items": {"type": "string", "maxLength": 3}, "uniqueItems": true},
                "a/b": {"const": 1},
            },
            "required": ["count", "name"],
            "additionalProperties": false,
        });
        let found = violations(
            schema,
            json!({"count": "three", "tags": ["ok", "toolong", "ok"], "a/b": 2, "extra": true}),
        );
        let at: Vec<&str> = found.iter().map(|(a, _)| a.as_str()).collect();
        // In the order of the value's members (the order they came in).
        assert_eq!(at, vec!["", "/count", "/tags", "/tags/1", "/a~1b", ""], "{found:#?}");
        assert!(found[0].1.contains("\"name\" is required"), "{found:?}");
        assert!(found[1].1.starts_with("Must be integer, is string \"three\""), "{found:?}");
        assert!(found[2].1.starts_with("Items 0 and 2 are the same"), "{found:?}");
        assert!(found[3].1.contains("at most 3 characters"), "{found:?}");
        assert!(found[5].1.contains("\"extra\" is not allowed"), "{found:?}");
    }

    #[test]
    fn combinations_refs_and_conditions() {
        let schema = json!({
            "$defs": {"positive": {"type": "number", "exclusiveMinimum": 0}},
            "type": "object",
            "properties": {
                "size": {"$ref": "#/$defs/positive"},
                "id": {"oneOf": [{"type": "string"}, {"type": "integer"}]},
                "mode": {"anyOf": [{"const": "fast"}, {"const": "slow"}]},
                "not_null": {"not": {"type": "null"}},
                "step": {"type": "number", "multipleOf": 0.5},
                "pair": {"type": "array", "prefixItems": [{"type": "string"}, {"type": "number"}], "minItems": 2},
            },
            "if": {"properties": {"mode": {"const": "fast"}}},
            "then": {"required": ["size"]},
        });
        assert_eq!(
            violations(
                schema.clone(),
                json!({"size": 1, "id": 3, "mode": "slow", "step": 1.5, "pair": ["a", 1]})
            ),
            vec![]
        );
        let found = violations(
            schema,
            json!({"size": 0, "id": 1.5, "mode": "fast", "not_null": null, "step": 0.3, "pair": [1]}),
        );
        let at: Vec<&str> = found.iter().map(|(a, _)| a.as_str()).collect();
        assert_eq!(
            at,
            vec!["/size", "/id", "/not_null", "/step", "/pair", "/pair/0"],
            "{found:#?}"
        );
        assert!(found[1].1.contains("matches 0"), "{found:?}");
    }

    #[test]
    fn a_schema_built_to_take_forever_is_cut_short() {
        // A small document whose every level refers twice to the one below: the work doubles
        // with each of the 40 levels.
        let mut defs = Map::new();
        defs.insert("l0".into(), json!({"type": "string"}));
        for n in 1..=40 {
            let below = json!({"$ref": format!("#/$defs/l{}", n - 1)});
            defs.insert(format!("l{n}"), json!({"oneOf": [below.clone(), below]}));
        }
        let schema = json!({"$defs": defs, "$ref": "#/$defs/l40"});
        let (_, unchecked) = check(&schema, &json!(1));
        assert!(unchecked.contains(&"the rest of a schema too complex to check"), "{unchecked:?}");
    }

    #[test]
    fn what_is_not_checked_is_named_and_cycles_end() {
        let schema = json!({"type": "string", "pattern": "^a", "format": "email"});
        let (found, unchecked) = check(&schema, &json!("b"));
        let spaced = json!({"$defs": {"a b": {"type": "string"}}, "$ref": "#/$defs/a%20b"});
        assert_eq!(violations(spaced, json!(1)).len(), 1, "a percent-encoded pointer resolves");
        assert!(found.is_empty());
        assert_eq!(unchecked, vec!["pattern", "format"]);
        let (_, unchecked) = check(&json!({"$ref": "https://example.com/s.json"}), &json!(1));
        assert_eq!(unchecked, vec!["$ref to another document"]);
        // A schema that refers to itself for ever stops at the depth bound, with one sentence.
        let (found, _) = check(&json!({"$ref": "#"}), &json!(1));
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(violations(json!(false), json!(1)).len(), 1);
        assert_eq!(violations(json!(true), json!(1)).len(), 0);
    }
}
