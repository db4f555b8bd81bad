//! JSON Schema to form model: turns a tool's `inputSchema` or an elicitation's `requestedSchema`
//! into the fields the console's "call a tool" and "answer an elicitation" forms render, and turns
//! what the person typed back into JSON arguments, with every problem phrased as a sentence naming
//! the field. It never fails on a schema: whatever it cannot model (`allOf`, `oneOf` of objects,
//! `patternProperties`, a `$ref` it cannot resolve locally, recursion, nesting past a limit)
//! becomes a raw-JSON field for that subtree, so the person can still type it.

use crate::core::json::number_text;
use crate::core::map::SortedMap;

use serde_json::{Map, Number, Value};
use thiserror::Error;

/// How deep groups may nest before the rest of a subtree is typed as raw JSON.
const MAX_DEPTH: usize = 12;
/// How many fields and options one form may hold, so schemas that fan out through `$ref`s stay
/// small. A choice past it becomes a plain input; an object past it becomes raw JSON.
const MAX_SIZE: usize = 5000;
/// How many `$ref`s and wrappers one node may pass through before it is typed as raw JSON.
const MAX_HOPS: usize = 16;
/// Keywords this module does not model; a schema using one becomes a raw-JSON field.
const UNMODELLED: [&str; 8] =
    ["allOf", "anyOf", "oneOf", "not", "if", "patternProperties", "prefixItems", "$dynamicRef"];

/// A form: the schema's own title and description, and its fields in the schema's order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Form {
    pub title: Option<String>,
    pub description: Option<String>,
    pub fields: Vec<Field>,
}

/// One property of the schema, with everything the UI needs to render and check it.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    /// A JSON Pointer from the arguments object (`/address/city`); the key in [`FormValues`].
    /// Empty for the one free-form field that stands for the whole arguments object.
    pub key: String,
    /// The property name as sent.
    pub name: String,
    pub title: Option<String>,
    pub description: Option<String>,
    pub required: bool,
    /// The schema allows `null`; a required but empty nullable field is sent as `null`.
    pub nullable: bool,
    pub read_only: bool,
    pub default: Option<Value>,
    pub examples: Vec<Value>,
    pub kind: FieldKind,
}

/// What sort of input a field is.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldKind {
    /// A string; `pattern` is shown to the person but not checked (there is no regex engine).
    Text {
        format: Option<String>,
        min_length: Option<u64>,
        max_length: Option<u64>,
        pattern: Option<String>,
    },
    Number {
        integer: bool,
        minimum: Option<Limit>,
        maximum: Option<Limit>,
    },
    Boolean,
    /// Pick one of `options` (`enum`, `const`, or `oneOf`/`anyOf` of `{const, title}`).
    Choice {
        options: Vec<Choice>,
    },
    /// Pick any of `options`: an array whose items are a choice.
    MultiChoice {
        options: Vec<Choice>,
        min_items: Option<u64>,
        max_items: Option<u64>,
    },
    /// An array of primitives, one typed row per item; `item` is `Text`, `Number` or `Boolean`.
    List {
        item: Box<FieldKind>,
        min_items: Option<u64>,
        max_items: Option<u64>,
    },
    /// A nested object.
    Group {
        fields: Vec<Field>,
    },
    /// Anything else, typed as raw JSON.
    Json,
}

/// A numeric bound; `exclusive` bounds reject the value itself.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limit {
    pub value: f64,
    pub exclusive: bool,
}

/// One option of a choice: the value sent and the label shown.
#[derive(Debug, Clone, PartialEq)]
pub struct Choice {
    pub value: Value,
    pub label: String,
}

/// What the form holds, by [`Field::key`]. Groups hold nothing themselves; a missing key is empty.
pub type FormValues = SortedMap<String, FieldValue>;

/// The argument a field's key names, if it is a top-level one (`/city` → `city`).
pub fn argument_of(key: &str) -> Option<String> {
    let name = key.strip_prefix('/').filter(|n| !n.contains('/'))?;
    Some(name.replace("~1", "/").replace("~0", "~"))
}

/// The top-level text field whose text differs between `before` and `after` (the one being
/// typed in): its key and new text.
pub fn typed_in(before: &FormValues, after: &FormValues) -> Option<(String, String)> {
    after.iter().find_map(|(key, value)| match value {
        FieldValue::Text(text) if before.get(key) != Some(value) && argument_of(key).is_some() => {
            Some((key.clone(), text.clone()))
        }
        _ => None,
    })
}

/// Every top-level text field's text, by argument name: what has been filled in so far, as
/// context for suggestions.
pub fn texts(values: &FormValues) -> Map<String, Value> {
    values
        .iter()
        .filter_map(|(key, value)| match value {
            FieldValue::Text(text) if !text.is_empty() => {
                Some((argument_of(key)?, Value::String(text.clone())))
            }
            _ => None,
        })
        .collect()
}

/// What the UI holds for one field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldValue {
    /// What was typed into a text, number or JSON field.
    Text(String),
    /// A boolean; `None` is "not set" and is not sent.
    Bool(Option<bool>),
    /// Indices into a choice's options: at most one for `Choice`, any number for `MultiChoice`.
    Selected(Vec<usize>),
    /// One typed row per item of a list field; blank rows are skipped.
    Items(Vec<String>),
}

/// A problem with one field, phrased as a sentence for the person filling the form.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{message}")]
pub struct FieldError {
    /// The [`Field::key`] of the field at fault, so the UI can show the sentence beside it.
    pub key: String,
    pub message: String,
}

impl Field {
    /// What the form calls this field: its `title`, else its name made readable
    /// (`maxResults` and `max_results` both read "Max results").
    pub fn label(&self) -> String {
        match self.title.as_deref().map(str::trim) {
            Some(title) if !title.is_empty() => title.to_owned(),
            _ if self.name.is_empty() => "Arguments".to_owned(),
            _ => capitalize(&humanize(&self.name)),
        }
    }

    fn error(&self, message: String) -> FieldError {
        FieldError { key: self.key.clone(), message }
    }
}

impl FieldValue {
    fn is_filled(&self) -> bool {
        match self {
            FieldValue::Text(text) => !text.trim().is_empty(),
            FieldValue::Bool(b) => b.is_some(),
            FieldValue::Selected(picked) => !picked.is_empty(),
            FieldValue::Items(rows) => rows.iter().any(|row| !row.trim().is_empty()),
        }
    }
}

/// Builds the form for a schema. Never fails: a schema that is not an object with properties
/// (`{}`, `true`, `42`, `{"type":"string"}`) gives one free-form JSON field for the arguments.
pub fn form_for(schema: &Value) -> Form {
    let mut builder = Builder { root: schema, refs: Vec::new(), budget: MAX_SIZE };
    let mut root = builder.field("", String::new(), schema, false, 0);
    let (title, description) = (root.title.take(), root.description.take());
    let fields = match root.kind {
        FieldKind::Group { fields } => fields,
        _ => vec![Field { kind: FieldKind::Json, nullable: false, ..root }],
    };
    Form { title, description, fields }
}

/// The values a fresh form starts with: each field's `default` (or its enclosing object's), an
/// unticked box for a required boolean without one, and empty for everything else.
pub fn defaults(form: &Form) -> FormValues {
    let mut values = FormValues::new();
    fill(&form.fields, None, true, &mut values);
    values
}

/// The values that would produce `args`, to re-fill the form from an earlier call. Values the
/// form cannot show (an option not in the list, a property it has no field for) are left out.
pub fn arguments_to_values(form: &Form, args: &Value) -> FormValues {
    let mut values = FormValues::new();
    fill(&form.fields, Some(args), false, &mut values);
    values
}

/// Reads the form back into arguments, or says what is wrong with every field that is.
/// Empty optional fields are left out; optional groups are sent once any field in them is filled.
pub fn to_arguments(
    form: &Form,
    values: &FormValues,
) -> Result<Map<String, Value>, Vec<FieldError>> {
    let mut errors = Vec::new();
    let mut args = Map::new();
    for field in &form.fields {
        match value_of(field, values, &mut errors) {
            None => {}
            Some(Value::Object(all)) if field.key.is_empty() => args.extend(all),
            Some(_) if field.key.is_empty() => {
                errors.push(field.error(sentence(&field.label(), "must be a JSON object.")))
            }
            Some(value) => {
                args.insert(field.name.clone(), value);
            }
        }
    }
    if errors.is_empty() { Ok(args) } else { Err(errors) }
}

struct Builder<'a> {
    root: &'a Value,
    /// The `$ref`s being expanded on the current path; meeting one again means recursion.
    refs: Vec<&'a str>,
    /// How many more fields and options the form may hold.
    budget: usize,
}

/// A schema with `$ref`s, one-element `allOf`s and `anyOf: [X, {"type":"null"}]` looked through.
struct Node<'a> {
    /// Every schema object passed through, outermost first: annotations on the outside win.
    layers: Vec<&'a Map<String, Value>>,
    /// The schema reached, or `None` when a reference could not be followed.
    target: Option<&'a Map<String, Value>>,
    nullable: bool,
}

impl<'a> Builder<'a> {
    fn field(
        &mut self,
        name: &str,
        key: String,
        schema: &'a Value,
        required: bool,
        depth: usize,
    ) -> Field {
        let mark = self.refs.len();
        let node = self.look_through(schema);
        let (kind, nullable) = match node.target {
            Some(target) => self.kind(target, &key, depth),
            None => (FieldKind::Json, false),
        };
        self.refs.truncate(mark);
        let note = |keyword: &str| node.layers.iter().find_map(|layer| layer.get(keyword));
        let text = |keyword: &str| note(keyword).and_then(Value::as_str).map(str::to_owned);
        Field {
            name: name.to_owned(),
            title: text("title"),
            description: text("description"),
            required,
            nullable: nullable || node.nullable || note("nullable") == Some(&Value::Bool(true)),
            read_only: note("readOnly").and_then(Value::as_bool).unwrap_or(false),
            default: note("default").cloned(),
            examples: match note("examples") {
                Some(Value::Array(examples)) => examples.clone(),
                _ => note("example").cloned().into_iter().collect(),
            },
            kind,
            key,
        }
    }

    fn look_through(&mut self, mut schema: &'a Value) -> Node<'a> {
        let mut node = Node { layers: Vec::new(), target: None, nullable: false };
        for _ in 0..MAX_HOPS {
            let Value::Object(map) = schema else { return node };
            node.layers.push(map);
            schema = if let Some(reference) = map.get("$ref") {
                let reference = reference.as_str().filter(|r| !self.refs.contains(r));
                let Some((reference, target)) =
                    reference.and_then(|r| Some((r, local_ref(self.root, r)?)))
                else {
                    return node;
                };
                self.refs.push(reference);
                target
            } else if let Some([only]) =
                map.get("allOf").and_then(Value::as_array).map(Vec::as_slice)
                && is_wrapper(map)
            {
                only
            } else if let Some(inner) = nullable_wrapper(map).filter(|_| is_wrapper(map)) {
                node.nullable = true;
                inner
            } else {
                node.target = Some(map);
                return node;
            };
        }
        node
    }

    fn kind(&mut self, s: &'a Map<String, Value>, key: &str, depth: usize) -> (FieldKind, bool) {
        let (ty, nullable) = type_of(s);
        if let Some(options) = choices(s, self.budget) {
            self.budget -= options.len();
            return (FieldKind::Choice { options }, nullable);
        }
        if UNMODELLED.iter().any(|keyword| s.get(*keyword).is_some_and(|v| !only_requires(v))) {
            return (FieldKind::Json, nullable);
        }
        let kind = match ty {
            Some("string") => FieldKind::Text {
                format: s.get("format").and_then(Value::as_str).map(str::to_owned),
                min_length: count(s, "minLength"),
                max_length: count(s, "maxLength"),
                pattern: s.get("pattern").and_then(Value::as_str).map(str::to_owned),
            },
            Some(ty @ ("number" | "integer")) => FieldKind::Number {
                integer: ty == "integer",
                minimum: limit(s, "minimum", "exclusiveMinimum"),
                maximum: limit(s, "maximum", "exclusiveMaximum"),
            },
            Some("boolean") => FieldKind::Boolean,
            Some("object") if depth < MAX_DEPTH => self.group(s, key, depth),
            Some("array") if depth < MAX_DEPTH => self.list(s, key),
            _ => FieldKind::Json,
        };
        (kind, nullable)
    }

    fn group(&mut self, s: &'a Map<String, Value>, key: &str, depth: usize) -> FieldKind {
        let properties = match s.get("properties") {
            Some(Value::Object(properties)) if properties.len() <= self.budget => properties,
            // A closed object without properties is `{}`; an open one is a free-form map.
            None if s.get("additionalProperties") == Some(&Value::Bool(false)) => {
                return FieldKind::Group { fields: Vec::new() };
            }
            _ => return FieldKind::Json,
        };
        self.budget -= properties.len();
        let required: Vec<&str> = s
            .get("required")
            .and_then(Value::as_array)
            .map(|names| names.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let fields = properties
            .iter()
            .map(|(name, sub)| {
                let child = format!("{key}/{}", name.replace('~', "~0").replace('/', "~1"));
                self.field(name, child, sub, required.contains(&name.as_str()), depth + 1)
            })
            .collect();
        FieldKind::Group { fields }
    }

    fn list(&mut self, s: &'a Map<String, Value>, key: &str) -> FieldKind {
        let (min_items, max_items) = (count(s, "minItems"), count(s, "maxItems"));
        let Some(items) = s.get("items") else { return FieldKind::Json };
        // Items get no depth to nest into: an array of objects or arrays is typed as JSON.
        let target = self.look_through(items).target;
        match target.map(|target| self.kind(target, key, MAX_DEPTH).0) {
            Some(FieldKind::Choice { options }) => {
                FieldKind::MultiChoice { options, min_items, max_items }
            }
            Some(
                item @ (FieldKind::Text { .. } | FieldKind::Number { .. } | FieldKind::Boolean),
            ) => FieldKind::List { item: Box::new(item), min_items, max_items },
            _ => FieldKind::Json,
        }
    }
}

/// Follows a same-document reference (`#`, `#/$defs/x`, `#/definitions/x`, any JSON Pointer).
fn local_ref<'a>(root: &'a Value, reference: &str) -> Option<&'a Value> {
    root.pointer(reference.strip_prefix('#')?)
}

/// Whether a schema says nothing of its own shape, so a lone `allOf` or nullable `anyOf` in it
/// can be looked through without losing anything.
fn is_wrapper(s: &Map<String, Value>) -> bool {
    !["type", "properties", "items", "enum", "const"].iter().any(|k| s.contains_key(*k))
}

/// Whether a composition only says which properties go together, as in
/// `anyOf: [{"required": ["a"]}, {"required": ["b"]}]`: the form shows the properties and leaves
/// that rule to the server.
fn only_requires(v: &Value) -> bool {
    let branch = |b: &Value| b.as_object().is_some_and(|b| b.keys().all(|k| k == "required"));
    v.as_array().map_or_else(|| branch(v), |branches| branches.iter().all(branch))
}

/// The `X` of `anyOf`/`oneOf: [X, {"type": "null"}]`, the way optional values are often written.
fn nullable_wrapper(s: &Map<String, Value>) -> Option<&Value> {
    let is_null = |b: &Value| b.get("type").and_then(Value::as_str) == Some("null");
    ["anyOf", "oneOf"].iter().find_map(|keyword| match s.get(*keyword)?.as_array()?.as_slice() {
        [a, b] if is_null(b) && !is_null(a) => Some(a),
        [a, b] if is_null(a) && !is_null(b) => Some(b),
        _ => None,
    })
}

/// The one non-null `type` (inferred when absent) and whether `null` is allowed too.
fn type_of(s: &Map<String, Value>) -> (Option<&str>, bool) {
    match s.get("type") {
        Some(Value::String(ty)) => (Some(ty), false),
        Some(Value::Array(types)) => {
            let nullable = types.iter().any(|ty| ty == "null");
            let rest: Vec<&str> =
                types.iter().filter_map(Value::as_str).filter(|t| *t != "null").collect();
            match rest.as_slice() {
                [one] => (Some(one), nullable),
                ["integer", "number"] | ["number", "integer"] => (Some("number"), nullable),
                _ => (None, nullable),
            }
        }
        Some(_) => (None, false),
        None if s.contains_key("properties") => (Some("object"), false),
        None if s.contains_key("items") => (Some("array"), false),
        None => (None, false),
    }
}

/// The options of `enum` (labelled by legacy `enumNames`), `const`, or `oneOf`/`anyOf` of consts;
/// `None` when there are none or more than `room`.
fn choices(s: &Map<String, Value>, room: usize) -> Option<Vec<Choice>> {
    let choice = |value: &Value, label: Option<&Value>| Choice {
        value: value.clone(),
        label: label.and_then(Value::as_str).map_or_else(|| plain(value), str::to_owned),
    };
    if let Some(Value::Array(values)) = s.get("enum") {
        let names = s.get("enumNames").and_then(Value::as_array);
        let label = |i: usize| names.and_then(|names| names.get(i));
        let options = values.iter().enumerate().map(|(i, v)| choice(v, label(i)));
        return (values.len() <= room).then(|| options.collect());
    }
    if let Some(value) = s.get("const") {
        return (room > 0).then(|| vec![choice(value, s.get("title"))]);
    }
    let branches = s.get("oneOf").or_else(|| s.get("anyOf"))?.as_array()?;
    if branches.is_empty() || branches.len() > room {
        return None;
    }
    branches.iter().map(|b| Some(choice(b.get("const")?, b.get("title")))).collect()
}

/// A non-negative count such as `maxLength`; nonsense (negative, not a number) is ignored.
fn count(s: &Map<String, Value>, keyword: &str) -> Option<u64> {
    let value = s.get(keyword)?;
    // `as` saturates, so an absurd 1e30 becomes u64::MAX rather than wrapping.
    value.as_u64().or_else(|| value.as_f64().filter(|f| *f >= 0.0).map(|f| f as u64))
}

/// A bound from `minimum` and `exclusiveMinimum` (a number since draft 6, a flag in draft 4).
fn limit(s: &Map<String, Value>, inclusive: &str, exclusive: &str) -> Option<Limit> {
    match s.get(exclusive) {
        Some(Value::Number(n)) => n.as_f64().map(|value| Limit { value, exclusive: true }),
        flag => s
            .get(inclusive)?
            .as_f64()
            .map(|value| Limit { value, exclusive: flag == Some(&Value::Bool(true)) }),
    }
}

/// Puts a value into `out` for every non-group field, read from `source` (the enclosing object's
/// value) or, for `defaults`, from the field's own `default` when the enclosing one has none.
fn fill(fields: &[Field], source: Option<&Value>, defaults: bool, out: &mut FormValues) {
    for field in fields {
        let given =
            if field.key.is_empty() { source } else { source.and_then(|s| s.get(&field.name)) };
        let given = if defaults { given.or(field.default.as_ref()) } else { given };
        if let FieldKind::Group { fields } = &field.kind {
            fill(fields, given, defaults, out);
        } else {
            out.insert(
                field.key.clone(),
                value_from(&field.kind, given, defaults && field.required),
            );
        }
    }
}

fn value_from(kind: &FieldKind, given: Option<&Value>, tick_box: bool) -> FieldValue {
    let position = |options: &[Choice], v: &Value| options.iter().position(|o| o.value == *v);
    let array = given.and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
    match kind {
        FieldKind::Boolean => {
            FieldValue::Bool(given.and_then(Value::as_bool).or(tick_box.then_some(false)))
        }
        FieldKind::Choice { options } => {
            FieldValue::Selected(given.and_then(|v| position(options, v)).into_iter().collect())
        }
        FieldKind::MultiChoice { options, .. } => {
            FieldValue::Selected(array.iter().filter_map(|v| position(options, v)).collect())
        }
        FieldKind::List { .. } => FieldValue::Items(array.iter().map(plain).collect()),
        FieldKind::Json => FieldValue::Text(
            given.and_then(|v| serde_json::to_string_pretty(v).ok()).unwrap_or_default(),
        ),
        _ => FieldValue::Text(given.map(plain).unwrap_or_default()),
    }
}

/// A value as the person would type it: strings bare, `null` as nothing, the rest as JSON.
fn plain(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn value_of(field: &Field, values: &FormValues, errors: &mut Vec<FieldError>) -> Option<Value> {
    let result = match &field.kind {
        FieldKind::Group { fields } => {
            let mut inner = Vec::new();
            let object: Map<String, Value> = fields
                .iter()
                .filter_map(|f| Some((f.name.clone(), value_of(f, values, &mut inner)?)))
                .collect();
            if has_input(fields, values) || (field.required && !field.nullable) {
                errors.extend(inner);
                Ok(Some(Value::Object(object)))
            } else {
                Ok(None)
            }
        }
        _ => leaf(field, values.get(&field.key)),
    };
    match result {
        Ok(Some(value)) => Some(value),
        Ok(None) if field.required && field.nullable => Some(Value::Null),
        Ok(None) if field.required => {
            errors.push(field.error(sentence(&field.label(), "is required.")));
            None
        }
        Ok(None) => None,
        Err(message) => {
            errors.push(field.error(message));
            None
        }
    }
}

fn has_input(fields: &[Field], values: &FormValues) -> bool {
    fields.iter().any(|f| match &f.kind {
        FieldKind::Group { fields } => has_input(fields, values),
        _ => values.get(&f.key).is_some_and(FieldValue::is_filled),
    })
}

/// One non-group field's value: `Ok(None)` when empty, `Err` with the sentence when wrong.
fn leaf(field: &Field, value: Option<&FieldValue>) -> Result<Option<Value>, String> {
    let label = field.label();
    match (&field.kind, value) {
        (_, None) => Ok(None),
        (_, Some(value)) if !value.is_filled() => Ok(None),
        (FieldKind::Boolean, Some(FieldValue::Bool(b))) => Ok(b.map(Value::Bool)),
        (FieldKind::Choice { options }, Some(FieldValue::Selected(picked))) => {
            match picked.as_slice() {
                [i] => match options.get(*i) {
                    Some(option) => Ok(Some(option.value.clone())),
                    None => Err(sentence(&label, "must be one of the listed options.")),
                },
                _ => Err(sentence(&label, "takes only one option.")),
            }
        }
        (
            FieldKind::MultiChoice { options, min_items, max_items },
            Some(FieldValue::Selected(picked)),
        ) => {
            let chosen: Option<Vec<Value>> =
                picked.iter().map(|i| options.get(*i).map(|o| o.value.clone())).collect();
            let chosen =
                chosen.ok_or_else(|| sentence(&label, "must use only the listed options."))?;
            within(&label, chosen, "option", *min_items, *max_items)
        }
        (FieldKind::List { item, min_items, max_items }, Some(FieldValue::Items(rows))) => {
            let mut items = Vec::new();
            for (n, row) in rows.iter().enumerate().filter(|(_, row)| !row.trim().is_empty()) {
                items.push(scalar(item, row, &format!("item {} of {label}", n + 1))?);
            }
            within(&label, items, "item", *min_items, *max_items)
        }
        (
            FieldKind::Text { .. } | FieldKind::Number { .. } | FieldKind::Json,
            Some(FieldValue::Text(text)),
        ) => scalar(&field.kind, text, &label).map(Some),
        _ => Err(sentence(&label, "holds the wrong kind of value; clear it and fill it in again.")),
    }
}

/// Checks an array's length against `minItems`/`maxItems`.
fn within(
    label: &str,
    items: Vec<Value>,
    noun: &str,
    min: Option<u64>,
    max: Option<u64>,
) -> Result<Option<Value>, String> {
    let n = items.len() as u64;
    if let Some(min) = min.filter(|min| n < *min) {
        return Err(sentence(label, &format!("needs at least {}.", plural(min, noun))));
    }
    if let Some(max) = max.filter(|max| n > *max) {
        return Err(sentence(label, &format!("takes at most {}.", plural(max, noun))));
    }
    Ok(Some(Value::Array(items)))
}

/// Parses and checks one typed value; `subject` names it in the error sentence.
fn scalar(kind: &FieldKind, text: &str, subject: &str) -> Result<Value, String> {
    let fail = |predicate: &str| Err(sentence(subject, predicate));
    match kind {
        FieldKind::Text { min_length, max_length, .. } => {
            let n = text.chars().count() as u64;
            if let Some(min) = min_length.filter(|min| n < *min) {
                return fail(&format!("must be at least {}.", plural(min, "character")));
            }
            if let Some(max) = max_length.filter(|max| n > *max) {
                return fail(&format!("must be at most {}.", plural(max, "character")));
            }
            Ok(Value::String(text.to_owned()))
        }
        FieldKind::Number { integer, minimum, maximum } => {
            let number = parse_number(text.trim(), *integer).map_err(|p| sentence(subject, p))?;
            let x = number.as_f64().unwrap_or_default();
            if let Some(l) = minimum.filter(|l| x < l.value || (l.exclusive && x <= l.value)) {
                let how = if l.exclusive { "greater than" } else { "at least" };
                return fail(&format!("must be {how} {}.", number_text(l.value)));
            }
            if let Some(l) = maximum.filter(|l| x > l.value || (l.exclusive && x >= l.value)) {
                let how = if l.exclusive { "less than" } else { "at most" };
                return fail(&format!("must be {how} {}.", number_text(l.value)));
            }
            Ok(Value::Number(number))
        }
        FieldKind::Boolean => match text.trim().to_ascii_lowercase().as_str() {
            "true" => Ok(Value::Bool(true)),
            "false" => Ok(Value::Bool(false)),
            _ => fail("must be true or false."),
        },
        FieldKind::Json => {
            serde_json::from_str(text).or_else(|e| fail(&format!("must be valid JSON ({e}).")))
        }
        _ => fail("cannot be typed as text."),
    }
}

/// Reads a number the way a person types it. Integers stay exact (`i64`/`u64`); `1.0` and `1e3`
/// are whole numbers too, but only within 2^53, where a float still counts every integer.
fn parse_number(text: &str, integer: bool) -> Result<Number, &'static str> {
    let not_a_number = if integer { "must be a whole number." } else { "must be a number." };
    if let Ok(i) = text.parse::<i64>() {
        return Ok(i.into());
    }
    if let Ok(u) = text.parse::<u64>() {
        return Ok(u.into());
    }
    // Rust also reads "inf" and "NaN" as floats; JSON has no such numbers.
    let numeric = text.bytes().all(|b| b.is_ascii_digit() || b"+-.eE".contains(&b));
    let x = text.parse::<f64>().ok().filter(|_| numeric).ok_or(not_a_number)?;
    if !x.is_finite() {
        return Err("is out of range.");
    }
    if !integer {
        return Number::from_f64(x).ok_or(not_a_number);
    }
    if x.fract() != 0.0 {
        return Err(not_a_number);
    }
    if x.abs() > 9_007_199_254_740_992.0 {
        return Err("is out of range.");
    }
    Ok((x as i64).into())
}

fn sentence(subject: &str, predicate: &str) -> String {
    format!("{} {predicate}", capitalize(subject))
}

fn capitalize(s: &str) -> String {
    let mut text = s.to_owned();
    if let Some(first) = text.get_mut(..1) {
        first.make_ascii_uppercase();
    }
    text
}

fn plural(n: u64, noun: &str) -> String {
    format!("{n} {noun}{}", if n == 1 { "" } else { "s" })
}

/// `maxResults`, `max_results` and `max-results` all become "max results"; `userID` "user ID".
/// Only ASCII letters change case: Unicode case tables would cost the release 30 KB.
fn humanize(name: &str) -> String {
    let mut out = String::new();
    let mut chars = name.chars().peekable();
    let mut prev: Option<char> = None;
    while let Some(c) = chars.next() {
        if c == '_' || c == '-' {
            if !out.is_empty() && !out.ends_with(' ') {
                out.push(' ');
            }
        } else if c.is_ascii_uppercase()
            && prev.is_some_and(|p| p.is_ascii_lowercase() || p.is_ascii_digit())
        {
            out.push(' ');
            // Keep acronyms ("ID") whole; lower a single capital that starts a word.
            if chars.peek().is_some_and(char::is_ascii_uppercase) {
                out.push(c);
            } else {
                out.push(c.to_ascii_lowercase());
            }
        } else {
            out.push(c);
        }
        prev = Some(c);
    }
    out.trim_end().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_field_being_typed_in_is_found_and_texts_are_the_context() {
        let mut before = FormValues::new();
        before.insert("/department".into(), FieldValue::Text("Eng".into()));
        before.insert("/flag".into(), FieldValue::Bool(Some(true)));
        let mut after = before.clone();
        assert_eq!(typed_in(&before, &after), None);
        after.insert("/a~1b".into(), FieldValue::Text("A".into()));
        after.insert("/nested/x".into(), FieldValue::Text("skipped".into()));
        assert_eq!(typed_in(&before, &after), Some(("/a~1b".into(), "A".into())));
        assert_eq!(argument_of("/a~1b").as_deref(), Some("a/b"));
        let context = json!({"department": "Eng", "a/b": "A"});
        assert_eq!(texts(&after), context.as_object().cloned().unwrap_or_default());
    }

    type Sent = Result<Value, Vec<String>>;

    fn t(text: &str) -> FieldValue {
        FieldValue::Text(text.to_owned())
    }

    fn pick(indices: &[usize]) -> FieldValue {
        FieldValue::Selected(indices.to_vec())
    }

    fn rows(rows: &[&str]) -> FieldValue {
        FieldValue::Items(rows.iter().map(|row| (*row).to_owned()).collect())
    }

    fn errs(messages: &[&str]) -> Sent {
        Err(messages.iter().map(|m| (*m).to_owned()).collect())
    }

    fn object(properties: Value, required: &[&str]) -> Value {
        json!({"type": "object", "properties": properties, "required": required})
    }

    /// The one field of `{"x": prop}`.
    fn only(prop: Value) -> Field {
        let form = form_for(&object(json!({ "x": prop }), &[]));
        form.fields.into_iter().next().unwrap_or_else(|| panic!("no field"))
    }

    /// Fills a fresh form (from its defaults) with `edits` and submits it.
    fn submit(schema: &Value, edits: &[(&str, FieldValue)]) -> Sent {
        let form = form_for(schema);
        let mut values = defaults(&form);
        values.extend(edits.iter().map(|(key, value)| ((*key).to_owned(), value.clone())));
        to_arguments(&form, &values)
            .map(Value::Object)
            .map_err(|errors| errors.into_iter().map(|e| e.message).collect())
    }

    /// What submitting `value` into `{"x": prop}` gives: the arguments as JSON, or the errors.
    fn outcome(prop: &Value, value: FieldValue) -> String {
        match submit(&object(json!({ "x": prop }), &[]), &[("/x", value)]) {
            Ok(args) => args.to_string(),
            Err(errors) => errors.join(" "),
        }
    }

    #[test]
    fn every_primitive_type_becomes_its_own_kind() {
        let text = |format: Option<&str>| FieldKind::Text {
            format: format.map(str::to_owned),
            min_length: None,
            max_length: None,
            pattern: None,
        };
        let number = |integer| FieldKind::Number { integer, minimum: None, maximum: None };
        let cases = [
            (json!({"type": "string"}), text(None)),
            (json!({"type": "string", "format": "date-time"}), text(Some("date-time"))),
            (json!({"type": "number"}), number(false)),
            (json!({"type": "integer"}), number(true)),
            (json!({"type": ["integer", "number"]}), number(false)),
            (json!({"type": "boolean"}), FieldKind::Boolean),
            (json!({"type": "null"}), FieldKind::Json),
            (json!({"type": ["string", "number"]}), FieldKind::Json),
            (json!({"type": "uuid"}), FieldKind::Json),
            (json!({}), FieldKind::Json),
            (json!(true), FieldKind::Json),
        ];
        for (schema, kind) in cases {
            assert_eq!(only(schema.clone()).kind, kind, "{schema}");
        }
    }

    #[test]
    fn annotations_are_carried_onto_the_field() {
        let field = only(json!({
            "type": "string", "title": "E-mail", "description": "Where to write",
            "format": "email", "minLength": 3, "maxLength": 40, "pattern": "^.+@.+$",
            "default": "a@b.c", "examples": ["x@y.z"], "readOnly": true
        }));
        assert_eq!(field.label(), "E-mail");
        assert_eq!(field.description.as_deref(), Some("Where to write"));
        assert_eq!((field.default, field.examples), (Some(json!("a@b.c")), vec![json!("x@y.z")]));
        assert!(field.read_only && !field.required && !field.nullable);
        let FieldKind::Text { format, min_length, max_length, pattern } = field.kind else {
            panic!("not text: {:?}", field.kind)
        };
        assert_eq!((format.as_deref(), min_length, max_length), (Some("email"), Some(3), Some(40)));
        assert_eq!(pattern.as_deref(), Some("^.+@.+$"));
    }

    #[test]
    fn labels_fall_back_to_readable_names_in_schema_order() {
        // Letters beyond ASCII keep their case, and are never cut.
        let names =
            ["maxResults", "max_results2", "max-results3", "userID", "q", "_private", "éléments"];
        let labels =
            ["Max results", "Max results2", "Max results3", "User ID", "Q", "Private", "éléments"];
        let properties: Map<String, Value> =
            names.iter().map(|n| ((*n).into(), json!({}))).collect();
        let form = form_for(&object(Value::Object(properties), &[]));
        let got: Vec<(&str, String)> = form.fields.iter().map(|f| (&*f.name, f.label())).collect();
        assert_eq!(got, names.iter().copied().zip(labels.map(String::from)).collect::<Vec<_>>());
    }

    #[test]
    fn required_empty_is_an_error_and_optional_empty_is_dropped() {
        let schema = object(
            json!({"name": {"type": "string"}, "count": {"type": "integer", "title": "Count"},
                   "note": {"type": "string"}, "on": {"type": "boolean"}}),
            &["name", "count"],
        );
        assert_eq!(submit(&schema, &[]), errs(&["Name is required.", "Count is required."]));
        // Whitespace is as good as nothing, and an unset optional boolean is not sent.
        let filled = [("/name", t("Ada")), ("/count", t("3")), ("/note", t("  "))];
        assert_eq!(submit(&schema, &filled), Ok(json!({"name": "Ada", "count": 3})));
        let ticked =
            [("/name", t("A")), ("/count", t("3")), ("/on", FieldValue::Bool(Some(false)))];
        assert_eq!(submit(&schema, &ticked), Ok(json!({"name": "A", "count": 3, "on": false})));
    }

    #[test]
    fn numbers_are_read_as_typed_integers_whole_and_everything_finite() {
        let int = json!({"type": "integer", "title": "Count"});
        let num = json!({"type": "number"});
        let cases = [
            (&int, "42", r#"{"x":42}"#),
            (&int, " 7 ", r#"{"x":7}"#),
            (&int, "-0", r#"{"x":0}"#),
            (&int, "+5", r#"{"x":5}"#),
            (&int, "1.0", r#"{"x":1}"#),
            (&int, "1e3", r#"{"x":1000}"#),
            (&int, "-9223372036854775808", r#"{"x":-9223372036854775808}"#),
            (&int, "18446744073709551615", r#"{"x":18446744073709551615}"#),
            (&int, "1.5", "Count must be a whole number."),
            (&int, "abc", "Count must be a whole number."),
            (&int, "NaN", "Count must be a whole number."),
            (&int, "inf", "Count must be a whole number."),
            (&int, "0x10", "Count must be a whole number."),
            (&int, "-", "Count must be a whole number."),
            (&int, "1e400", "Count is out of range."),
            (&int, "99999999999999999999", "Count is out of range."),
            (&num, "0.25", r#"{"x":0.25}"#),
            (&num, "3", r#"{"x":3}"#),
            (&num, "-0", r#"{"x":0}"#),
            (&num, "1e-400", r#"{"x":0.0}"#),
            (&num, "NaN", "X must be a number."),
            (&num, "-infinity", "X must be a number."),
            (&num, "1,5", "X must be a number."),
            (&num, "1e309", "X is out of range."),
        ];
        for (prop, input, expected) in cases {
            assert_eq!(outcome(prop, t(input)), expected, "{prop} {input:?}");
        }
        let huge = outcome(&num, t("12345678901234567890123"));
        assert_eq!(
            serde_json::from_str::<Value>(&huge).ok(),
            Some(json!({"x": 1.2345678901234568e22}))
        );
    }

    #[test]
    fn bounds_and_lengths_are_checked_in_sentences() {
        let email = json!({"type": "string", "title": "Email", "minLength": 3, "maxLength": 40});
        let code = json!({"type": "string", "maxLength": 1});
        let age = json!({"type": "integer", "title": "Age", "minimum": 18, "maximum": 130});
        let p = json!({"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1});
        let draft4 = json!({"type": "number", "minimum": 0.5, "exclusiveMinimum": true});
        let big = json!({"type": "number", "maximum": 1e308, "minimum": -0.00001});
        let long = "x".repeat(41);
        let cases = [
            (&email, "ab", "Email must be at least 3 characters."),
            (&email, &long, "Email must be at most 40 characters."),
            (&email, "ñüé", r#"{"x":"ñüé"}"#),
            (&code, "ab", "X must be at most 1 character."),
            (&age, "17", "Age must be at least 18."),
            (&age, "131", "Age must be at most 130."),
            (&age, "18", r#"{"x":18}"#),
            (&p, "0", "X must be greater than 0."),
            (&p, "1", "X must be less than 1."),
            (&p, "0.5", r#"{"x":0.5}"#),
            (&draft4, "0.5", "X must be greater than 0.5."),
            (&big, "1.7e308", "X must be at most 1e308."),
            (&big, "-1", "X must be at least -0.00001."),
        ];
        for (prop, input, expected) in cases {
            assert_eq!(outcome(prop, t(input)), expected, "{prop} {input:?}");
        }
    }

    #[test]
    fn defaults_prefill_every_kind_of_field() {
        let schema = object(
            json!({
                "s": {"type": "string", "default": "hi"},
                "n": {"type": "number", "default": 2.5},
                "b": {"type": "boolean", "default": true},
                "req": {"type": "boolean"},
                "opt": {"type": "boolean"},
                "c": {"type": "string", "enum": ["a", "b"], "default": "b"},
                "tags": {"type": "array", "items": {"type": "string"}, "default": ["x", "y"]},
                "raw": {"type": "array", "items": {"type": "object"}, "default": [{"k": 1}]},
                "where": {"type": "object", "default": {"city": "Oslo"}, "properties": {
                    "city": {"type": "string"}, "zip": {"type": "string", "default": "0150"}}}
            }),
            &["req"],
        );
        let expected = [
            ("/s", t("hi")),
            ("/n", t("2.5")),
            ("/b", FieldValue::Bool(Some(true))),
            ("/req", FieldValue::Bool(Some(false))),
            ("/opt", FieldValue::Bool(None)),
            ("/c", pick(&[1])),
            ("/tags", rows(&["x", "y"])),
            ("/raw", t("[\n  {\n    \"k\": 1\n  }\n]")),
            ("/where/city", t("Oslo")),
            ("/where/zip", t("0150")),
        ];
        let expected: FormValues = expected.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
        assert_eq!(defaults(&form_for(&schema)), expected);
        let sent = json!({"s": "hi", "n": 2.5, "b": true, "req": false, "c": "b",
                          "tags": ["x", "y"], "raw": [{"k": 1}],
                          "where": {"city": "Oslo", "zip": "0150"}});
        assert_eq!(submit(&schema, &[]), Ok(sent));
    }

    #[test]
    fn nullable_types_are_modelled_and_sent_as_null_only_when_required() {
        let schema = json!({
            "type": "object",
            "properties": {
                "a": {"type": ["string", "null"]},
                "b": {"anyOf": [{"type": "integer"}, {"type": "null"}], "default": null},
                "c": {"oneOf": [{"type": "null"}, {"$ref": "#/$defs/tag"}]},
                "d": {"type": "string", "nullable": true}
            },
            "required": ["a", "c"],
            "$defs": {"tag": {"type": "string", "enum": ["x", "y"]}}
        });
        let form = form_for(&schema);
        assert!(form.fields.iter().all(|f| f.nullable), "{:?}", form.fields);
        let kinds: Vec<&FieldKind> = form.fields.iter().map(|f| &f.kind).collect();
        assert!(matches!(
            kinds[..],
            [
                FieldKind::Text { .. },
                FieldKind::Number { integer: true, .. },
                FieldKind::Choice { .. },
                _
            ]
        ));
        assert_eq!(submit(&schema, &[]), Ok(json!({"a": null, "c": null})));
        let filled = [("/a", t("x")), ("/b", t("4")), ("/c", pick(&[1])), ("/d", t("y"))];
        assert_eq!(submit(&schema, &filled), Ok(json!({"a": "x", "b": 4, "c": "y", "d": "y"})));
    }

    #[test]
    fn enum_labels_come_from_enum_names_or_const_titles() {
        let red = json!({"const": "#f00", "title": "Red"});
        let cases = [
            (json!({"type": "string", "enum": ["a", "b"]}), json!([["a", "a"], ["b", "b"]])),
            (
                json!({"enum": ["a", "b"], "enumNames": ["Apple"]}),
                json!([["a", "Apple"], ["b", "b"]]),
            ),
            (
                json!({"oneOf": [red, {"const": "#0f0"}]}),
                json!([["#f00", "Red"], ["#0f0", "#0f0"]]),
            ),
            (json!({"anyOf": [{"const": 1, "title": "One"}]}), json!([[1, "One"]])),
            (json!({"enum": [1, null, true]}), json!([[1, "1"], [null, ""], [true, "true"]])),
            (json!({"const": "only", "title": "Only"}), json!([["only", "Only"]])),
        ];
        for (schema, expected) in cases {
            let FieldKind::Choice { options } = only(schema.clone()).kind else {
                panic!("{schema}")
            };
            let got: Vec<Value> = options.into_iter().map(|o| json!([o.value, o.label])).collect();
            assert_eq!(Value::Array(got), expected, "{schema}");
        }
    }

    #[test]
    fn a_choice_must_be_one_of_its_options() {
        let size = json!({"enum": ["s", "m"], "title": "Size"});
        let cases = [
            (pick(&[1]), r#"{"x":"m"}"#),
            (pick(&[]), "{}"),
            (pick(&[2]), "Size must be one of the listed options."),
            (pick(&[0, 1]), "Size takes only one option."),
            (t("m"), "Size holds the wrong kind of value; clear it and fill it in again."),
        ];
        for (value, expected) in cases {
            assert_eq!(outcome(&size, value.clone()), expected, "{value:?}");
        }
    }

    #[test]
    fn nested_objects_become_groups_sent_only_when_touched() {
        let address =
            object(json!({"city": {"type": "string"}, "zip": {"type": "string"}}), &["city"]);
        let owner = object(json!({"id": {"type": "integer"}}), &["id"]);
        let schema = object(json!({"address": address, "owner": owner}), &["owner"]);
        let form = form_for(&schema);
        let Some(FieldKind::Group { fields }) = form.fields.first().map(|f| &f.kind) else {
            panic!("address is not a group: {form:?}")
        };
        let keys: Vec<&str> = fields.iter().map(|f| f.key.as_str()).collect();
        assert_eq!(keys, ["/address/city", "/address/zip"]);
        assert_eq!(submit(&schema, &[]), errs(&["Id is required."]));
        assert_eq!(submit(&schema, &[("/owner/id", t("1"))]), Ok(json!({"owner": {"id": 1}})));
        let zip_only = [("/owner/id", t("1")), ("/address/zip", t("0150"))];
        assert_eq!(submit(&schema, &zip_only), errs(&["City is required."]));
        let errors = to_arguments(&form, &FormValues::new()).err().unwrap_or_default();
        assert_eq!(errors.first().map(|e| e.key.as_str()), Some("/owner/id"));
    }

    #[test]
    fn property_names_are_escaped_in_keys() {
        let form = form_for(&object(json!({"a/b": {}, "c~d": {}}), &[]));
        let keys: Vec<&str> = form.fields.iter().map(|f| f.key.as_str()).collect();
        assert_eq!(keys, ["/a~1b", "/c~0d"]);
        let values = FormValues::from([("/a~1b".into(), t("1")), ("/c~0d".into(), t("[2]"))]);
        let sent = to_arguments(&form, &values).map(Value::Object);
        assert_eq!(sent, Ok(json!({"a/b": 1, "c~d": [2]})));
    }

    #[test]
    fn arrays_of_primitives_become_lists_with_blank_rows_skipped() {
        let tags =
            json!({"type": "array", "items": {"type": "string", "maxLength": 3}, "maxItems": 2});
        let ids =
            json!({"type": "array", "title": "Ids", "items": {"type": "integer", "minimum": 1}});
        let flags = json!({"type": "array", "items": {"type": "boolean"}, "minItems": 2});
        let cases = [
            (&tags, rows(&["a", " ", "b"]), r#"{"x":["a","b"]}"#),
            (&tags, rows(&["", ""]), "{}"),
            (&tags, rows(&["a", "b", "c"]), "X takes at most 2 items."),
            (&tags, rows(&["a", "long"]), "Item 2 of X must be at most 3 characters."),
            (&ids, rows(&["1", "", "x"]), "Item 3 of Ids must be a whole number."),
            (&ids, rows(&["0"]), "Item 1 of Ids must be at least 1."),
            (&ids, rows(&["2", "3"]), r#"{"x":[2,3]}"#),
            (&flags, rows(&["true", "FALSE"]), r#"{"x":[true,false]}"#),
            (&flags, rows(&["yes", "no"]), "Item 1 of X must be true or false."),
            (&flags, rows(&["true"]), "X needs at least 2 items."),
        ];
        for (prop, value, expected) in cases {
            assert_eq!(outcome(prop, value.clone()), expected, "{prop} {value:?}");
        }
    }

    #[test]
    fn what_cannot_be_modelled_becomes_a_json_field() {
        let cases = [
            json!({"type": "array", "items": {"type": "object", "properties": {"a": {}}}}),
            json!({"type": "array", "items": {"type": "array", "items": {"type": "string"}}}),
            json!({"type": "array"}),
            json!({"type": "array", "prefixItems": [{"type": "string"}]}),
            json!({"type": "array", "items": [{"type": "string"}]}),
            json!({"allOf": [{"type": "string"}, {"minLength": 1}]}),
            json!({"oneOf": [{"type": "object", "properties": {"a": {}}}, {"type": "string"}]}),
            json!({"anyOf": [{"type": "string"}, {"type": "integer"}, {"type": "null"}]}),
            json!({"type": "object", "patternProperties": {"^x-": {"type": "string"}}}),
            json!({"type": "object", "additionalProperties": {"type": "integer"}}),
            json!({"type": "object"}),
            json!({"$ref": "https://example.com/schema.json"}),
            json!({"$ref": "#/$defs/missing"}),
            json!({"$ref": 7}),
        ];
        for schema in cases {
            assert_eq!(only(schema.clone()).kind, FieldKind::Json, "{schema}");
        }
        // A one-element allOf (older generators wrap a $ref so) is looked through.
        let wrapped = only(json!({"allOf": [{"type": "string"}], "title": "Wrapped"}));
        assert!(matches!(wrapped.kind, FieldKind::Text { .. }) && wrapped.label() == "Wrapped");
        // "Send a or b" leaves the properties as they are; the server enforces the rule.
        let either = json!({"properties": {"a": {}, "b": {}}, "required": [],
                            "anyOf": [{"required": ["a"]}, {"required": ["b"]}],
                            "allOf": [{"required": ["a"]}], "not": {"required": ["c"]}});
        assert!(matches!(only(either).kind, FieldKind::Group { fields } if fields.len() == 2));
    }

    #[test]
    fn json_fields_must_parse() {
        let rows = json!({"type": "array", "title": "Rows", "items": {"type": "object"}});
        assert_eq!(outcome(&rows, t(r#"[{"a": 1}]"#)), r#"{"x":[{"a":1}]}"#);
        let bad = "Rows must be valid JSON (EOF while parsing an object at line 1 column 2).";
        assert_eq!(outcome(&rows, t("[{")), bad);
        // serde_json's recursion limit refuses deep nesting instead of overflowing the stack.
        assert!(outcome(&rows, t(&"[".repeat(100_000))).starts_with("Rows must be valid JSON"));
    }

    #[test]
    fn refs_to_defs_and_definitions_resolve_with_outer_annotations_winning() {
        let schema = json!({
            "type": "object",
            "properties": {
                "color": {"$ref": "#/$defs/Color", "description": "Outer words"},
                "point": {"$ref": "#/definitions/Point"},
                "alias": {"$ref": "#/$defs/Alias"}
            },
            "$defs": {
                "Color": {"enum": ["red", "blue"], "title": "Colour", "description": "Inner"},
                "Alias": {"$ref": "#/$defs/Color"}
            },
            "definitions": {"Point": {"type": "object", "properties": {"x": {"type": "number"}}}}
        });
        let form = form_for(&schema);
        let [color, point, alias] = form.fields.as_slice() else { panic!("{form:?}") };
        assert_eq!(
            (color.label(), color.description.as_deref()),
            ("Colour".into(), Some("Outer words"))
        );
        assert!(matches!(&color.kind, FieldKind::Choice { options } if options.len() == 2));
        assert!(matches!(&point.kind, FieldKind::Group { fields } if fields[0].key == "/point/x"));
        assert_eq!(alias.kind, color.kind);
        let filled = [("/color", pick(&[1])), ("/point/x", t("1.5")), ("/alias", pick(&[0]))];
        let sent = json!({"color": "blue", "point": {"x": 1.5}, "alias": "red"});
        assert_eq!(submit(&schema, &filled), Ok(sent));
    }

    #[test]
    fn recursive_refs_stop_at_the_first_repeat_as_json() {
        let schema = json!({
            "$ref": "#/$defs/Node",
            "$defs": {"Node": {"type": "object", "properties": {
                "name": {"type": "string"},
                "children": {"type": "array", "items": {"$ref": "#/$defs/Node"}},
                "parent": {"$ref": "#/$defs/Node"},
                "self": {"$ref": "#"}
            }}}
        });
        let form = form_for(&schema);
        let kinds: Vec<(&str, &FieldKind)> =
            form.fields.iter().map(|f| (&*f.key, &f.kind)).collect();
        assert!(matches!(kinds[0], ("/name", FieldKind::Text { .. })));
        let json = &FieldKind::Json;
        assert_eq!(kinds[1..], [("/children", json), ("/parent", json), ("/self", json)]);
        let filled = [("/name", t("root")), ("/parent", t(r#"{"name": "up"}"#))];
        assert_eq!(submit(&schema, &filled), Ok(json!({"name": "root", "parent": {"name": "up"}})));
    }

    #[test]
    fn empty_or_typeless_schemas_give_one_free_form_field() {
        let schemas = [json!({}), json!({"type": "object"}), json!(true), json!(42), json!("x")];
        let more = [json!(null), json!([]), json!({"type": "string", "title": "T"})];
        for schema in schemas.iter().chain(&more) {
            let form = form_for(schema);
            let [field] = form.fields.as_slice() else { panic!("{schema}: {form:?}") };
            assert_eq!(
                (&*field.key, &*field.label(), &field.kind),
                ("", "Arguments", &FieldKind::Json)
            );
            assert_eq!(submit(schema, &[]), Ok(json!({})), "{schema}");
            assert_eq!(submit(schema, &[("", t(r#"{"a": 1}"#))]), Ok(json!({"a": 1})));
            assert_eq!(
                submit(schema, &[("", t("[1]"))]),
                errs(&["Arguments must be a JSON object."])
            );
            let refilled = arguments_to_values(&form, &json!({"a": 1}));
            assert_eq!(refilled, FormValues::from([(String::new(), t("{\n  \"a\": 1\n}"))]));
        }
        // A tool without arguments has no fields at all.
        let closed = json!({"type": "object", "additionalProperties": false});
        for schema in [json!({"type": "object", "properties": {}}), closed] {
            assert_eq!(form_for(&schema).fields, vec![], "{schema}");
            assert_eq!(submit(&schema, &[]), Ok(json!({})));
        }
    }

    #[test]
    fn spec_elicitation_requests_become_forms() {
        // MCP 2025-11-25, client/elicitation: "Simple Text Request" and "Structured Data Request".
        let simple = object(json!({"name": {"type": "string"}}), &["name"]);
        assert_eq!(submit(&simple, &[]), errs(&["Name is required."]));
        assert_eq!(submit(&simple, &[("/name", t("octocat"))]), Ok(json!({"name": "octocat"})));
        let structured = object(
            json!({
                "name": {"type": "string", "description": "Your full name"},
                "email": {"type": "string", "format": "email", "description": "Your email address"},
                "age": {"type": "number", "minimum": 18, "description": "Your age"}
            }),
            &["name", "email"],
        );
        let answer = [
            ("/name", t("Monalisa Octocat")),
            ("/email", t("octocat@github.com")),
            ("/age", t("30")),
        ];
        let content = json!({"name": "Monalisa Octocat", "email": "octocat@github.com", "age": 30});
        assert_eq!(submit(&structured, &answer), Ok(content));
        let too_young = ["Name is required.", "Email is required.", "Age must be at least 18."];
        assert_eq!(submit(&structured, &[("/age", t("17"))]), errs(&too_young));
    }

    #[test]
    fn spec_elicitation_enum_schemas_become_choices() {
        // The four enum shapes of MCP 2025-11-25, and the legacy enumNames one.
        let rgb = json!(["Red", "Green", "Blue"]);
        let titled = json!([{"const": "#FF0000", "title": "Red"},
                            {"const": "#00FF00", "title": "Green"},
                            {"const": "#0000FF", "title": "Blue"}]);
        let schema = object(
            json!({
                "plain": {"type": "string", "title": "Color Selection", "enum": rgb,
                          "default": "Red"},
                "titled": {"type": "string", "oneOf": titled, "default": "#FF0000"},
                "many": {"type": "array", "title": "Colors", "minItems": 1, "maxItems": 2,
                         "items": {"type": "string", "enum": rgb}, "default": ["Red", "Green"]},
                "manyTitled": {"type": "array", "minItems": 1, "maxItems": 2,
                               "items": {"anyOf": titled}, "default": ["#FF0000", "#00FF00"]},
                "legacy": {"type": "string", "enum": ["a", "b"], "enumNames": ["A!", "B!"]}
            }),
            &[],
        );
        let form = form_for(&schema);
        let labels: Vec<Vec<&str>> = form
            .fields
            .iter()
            .map(|f| match &f.kind {
                FieldKind::Choice { options } | FieldKind::MultiChoice { options, .. } => {
                    options.iter().map(|o| o.label.as_str()).collect()
                }
                other => panic!("{}: {other:?}", f.name),
            })
            .collect();
        let rgb = vec!["Red", "Green", "Blue"];
        assert_eq!(labels, [rgb.clone(), rgb.clone(), rgb.clone(), rgb, vec!["A!", "B!"]]);
        assert_eq!(defaults(&form).get("/manyTitled"), Some(&pick(&[0, 1])));
        let sent = json!({"plain": "Red", "titled": "#FF0000", "many": ["Red", "Green"],
                          "manyTitled": ["#FF0000", "#00FF00"], "legacy": "b"});
        assert_eq!(submit(&schema, &[("/legacy", pick(&[1]))]), Ok(sent));
        let cases = [
            (pick(&[0, 1, 2]), errs(&["Colors takes at most 2 options."])),
            (pick(&[5]), errs(&["Colors must use only the listed options."])),
            (pick(&[2]), Ok(json!(["Blue"]))),
        ];
        for (value, expected) in cases {
            let got = submit(&schema, &[("/many", value.clone())]).map(|args| args["many"].clone());
            assert_eq!(got, expected, "{value:?}");
        }
        let two = json!({"type": "array", "minItems": 2, "items": {"enum": ["a", "b"]}});
        assert_eq!(outcome(&two, pick(&[0])), "X needs at least 2 options.");
    }

    #[test]
    fn arguments_round_trip_through_the_form() {
        let schema = object(
            json!({
                "q": {"type": "string"},
                "n": {"type": "number"},
                "big": {"type": "integer"},
                "on": {"type": "boolean"},
                "pick": {"oneOf": [{"const": 1, "title": "One"},
                                   {"const": {"k": 2}, "title": "Two"}]},
                "many": {"type": "array", "items": {"enum": ["a", "b", "c"]}},
                "tags": {"type": "array", "items": {"type": "string"}},
                "nums": {"type": "array", "items": {"type": "number"}},
                "where": object(json!({"city": {"type": "string"}, "n": {"type": "integer"}}), &[]),
                "raw": {"type": "object"},
                "maybe": {"type": ["string", "null"]}
            }),
            &["maybe"],
        );
        let form = form_for(&schema);
        let cases = [
            json!({"maybe": null}),
            json!({"q": "héllo  ", "n": 0.1, "big": u64::MAX, "on": false, "pick": {"k": 2},
                   "many": ["c", "a"], "tags": ["x", "y z"], "nums": [1, 2.5, -1e300, 3.0],
                   "where": {"city": "Oslo", "n": -7}, "raw": {"deep": [1, {"x": null}]},
                   "maybe": "m"}),
            json!({"on": true, "pick": 1, "where": {"n": 0}, "maybe": "x", "raw": {}}),
        ];
        for args in cases {
            let values = arguments_to_values(&form, &args);
            assert_eq!(to_arguments(&form, &values).map(Value::Object), Ok(args), "{values:?}");
        }
        // What the form cannot show is left out rather than guessed.
        let values = arguments_to_values(&form, &json!({"pick": 3, "unknown": 1, "maybe": null}));
        assert_eq!(values.get("/pick"), Some(&pick(&[])));
        assert_eq!(to_arguments(&form, &values).map(Value::Object), Ok(json!({"maybe": null})));
    }

    #[test]
    fn a_thousand_levels_of_nesting_do_not_overflow_the_stack() {
        // Built by hand: `json!` would copy the inner value through serde at every level.
        let wrap = |key: &str, v: Value| Value::Object(Map::from_iter([(key.to_owned(), v)]));
        let mut deep = json!({"type": "string"});
        let mut any_of = json!({"type": "string"});
        for _ in 0..1000 {
            deep = wrap("properties", wrap("a", deep));
            any_of = wrap("anyOf", Value::Array(vec![any_of, json!({"type": "null"})]));
        }
        let form = form_for(&deep);
        let (mut fields, mut depth) = (&form.fields, 0);
        while let Some(FieldKind::Group { fields: inner }) = fields.first().map(|f| &f.kind) {
            (fields, depth) = (inner, depth + 1);
        }
        assert_eq!(depth, MAX_DEPTH - 1);
        assert_eq!(fields.first().map(|f| &f.kind), Some(&FieldKind::Json));
        let key = "/a".repeat(MAX_DEPTH);
        let sent = submit(&deep, &[(&key, t(r#"{"a": {}}"#))]);
        assert!(sent.is_ok_and(|args| args.pointer(&key) == Some(&json!({"a": {}}))));
        let wrapped = form_for(&wrap("properties", wrap("x", any_of)));
        assert_eq!(wrapped.fields.first().map(|f| &f.kind), Some(&FieldKind::Json));
        // A chain of references longer than the hop limit is given up, not followed forever.
        let defs: Map<String, Value> = (0..1000)
            .map(|i| (format!("d{i}"), json!({"$ref": format!("#/$defs/d{}", i + 1)})))
            .collect();
        let chain = json!({"properties": {"x": {"$ref": "#/$defs/d0"}}, "$defs": defs});
        assert_eq!(form_for(&chain).fields.first().map(|f| &f.kind), Some(&FieldKind::Json));
    }

    #[test]
    fn schemas_that_fan_out_are_capped_in_fields_and_options() {
        fn count(fields: &[Field]) -> usize {
            let size = |f: &Field| match &f.kind {
                FieldKind::Group { fields } => 1 + count(fields),
                _ => 1,
            };
            fields.iter().map(size).sum()
        }
        // Each level refers to the next ten times: 10^8 fields if expanded in full.
        let mut defs: Map<String, Value> = (0..8)
            .map(|level| {
                let next = json!({"$ref": format!("#/$defs/l{}", level + 1)});
                let props: Map<String, Value> =
                    (0..10).map(|i| (format!("p{i}"), next.clone())).collect();
                (format!("l{level}"), json!({"type": "object", "properties": props}))
            })
            .collect();
        defs.insert("l8".into(), json!({"type": "string"}));
        let form = form_for(&json!({"$ref": "#/$defs/l0", "$defs": defs}));
        assert!(count(&form.fields) <= MAX_SIZE, "{}", count(&form.fields));
        assert_eq!(form.fields.len(), 10);
        // Options count too: a long list shared by many fields becomes a plain input once over.
        let zones: Vec<Value> = (0..3000).map(|i| json!(format!("zone {i}"))).collect();
        let tz = json!({"$ref": "#/$defs/tz"});
        let schema = json!({"properties": {"a": tz, "b": tz},
                            "$defs": {"tz": {"type": "string", "enum": zones}}});
        let kinds: Vec<FieldKind> = form_for(&schema).fields.into_iter().map(|f| f.kind).collect();
        assert!(matches!(kinds[..], [FieldKind::Choice { .. }, FieldKind::Text { .. }]));
    }

    #[test]
    fn hostile_numbers_and_values_are_refused_without_panicking() {
        let schema = object(
            json!({"n": {"type": "integer", "minLength": -1, "minimum": -1e308, "maximum": "high"},
                   "s": {"type": "string", "minLength": 1e30, "maxLength": -5}}),
            &[],
        );
        let form = form_for(&schema);
        let kinds: Vec<&FieldKind> = form.fields.iter().map(|f| &f.kind).collect();
        assert!(matches!(kinds[0], FieldKind::Number { minimum: Some(_), maximum: None, .. }));
        assert!(matches!(
            kinds[1],
            FieldKind::Text { min_length: Some(u64::MAX), max_length: None, .. }
        ));
        assert_eq!(submit(&schema, &[("/n", t(&"9".repeat(400)))]), errs(&["N is out of range."]));
        let short = "S must be at least 18446744073709551615 characters.";
        assert_eq!(submit(&schema, &[("/s", t("x"))]), errs(&[short]));
        let wrong = [("/n", FieldValue::Bool(Some(true))), ("/s", rows(&["x"]))];
        assert_eq!(submit(&schema, &wrong).map_err(|e| e.len()), Err(2));
        // Arguments of the wrong shape re-fill as much as they can.
        for args in [json!(null), json!([1]), json!({"n": {"x": 1}, "s": [1]})] {
            let values = arguments_to_values(&form, &args);
            assert!(values.values().all(|v| matches!(v, FieldValue::Text(_))), "{values:?}");
        }
    }
}
