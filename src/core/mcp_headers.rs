//! The headers a 2026-07-28 Streamable HTTP request copies out of its own body, so that proxies
//! and load balancers can route it without reading the body: `Mcp-Method` on every request,
//! `Mcp-Name` on the ones that name a tool, prompt, resource or task, and `Mcp-Param-{Name}` for
//! each argument that the tool's `inputSchema` marks with `x-mcp-header`. This module owns the
//! value encoding (plain, or the `=?base64?…?=` sentinel), the rules that make an `x-mcp-header`
//! annotation invalid (a tool with one is left out of the tool list), and turning an argument into
//! a header value. It decides nothing about when a request carries them; the transport does.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value};
use std::borrow::Cow;
use thiserror::Error;

/// The request's JSON-RPC method, on every request.
pub const METHOD_HEADER: &str = "mcp-method";
/// The tool, prompt, resource or task a request is about.
pub const NAME_HEADER: &str = "mcp-name";
/// Put before an annotation's declared name, whose case is kept: `Mcp-Param-Region`.
pub const PARAM_HEADER_PREFIX: &str = "Mcp-Param-";
/// The JSON Schema keyword that asks for an argument to be copied into a header.
pub const ANNOTATION: &str = "x-mcp-header";

/// The largest magnitude an integer header may carry, 2^53 − 1, so that every peer (JavaScript's
/// numbers included) reads back the number that was sent.
pub const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

const SENTINEL_PREFIX: &str = "=?base64?";
const SENTINEL_SUFFIX: &str = "?=";

/// `Mcp-Method`, and `Mcp-Name` where the method has one: `params.name` for `tools/call` and
/// `prompts/get`, `params.uri` for `resources/read`, `params.taskId` for the Tasks extension's
/// `tasks/get`, `tasks/update` and `tasks/cancel`. `Mcp-Name` is encoded by [`encode_value`];
/// the method is the console's own ASCII text and goes as it is (the checkers compare it raw).
pub fn standard_headers(method: &str, params: Option<&Value>) -> Vec<(Cow<'static, str>, String)> {
    let mut headers = vec![(Cow::Borrowed(METHOD_HEADER), method.to_owned())];
    if let Some(name) = name_of(method, params) {
        headers.push((Cow::Borrowed(NAME_HEADER), encode_value(name)));
    }
    headers
}

fn name_of<'a>(method: &str, params: Option<&'a Value>) -> Option<&'a str> {
    let field = match method {
        "tools/call" | "prompts/get" => "name",
        "resources/read" => "uri",
        "tasks/get" | "tasks/update" | "tasks/cancel" => "taskId",
        _ => return None,
    };
    params?.get(field)?.as_str()
}

/// `value` as a header value: as it is when it is safe to send plain, otherwise the sentinel
/// `=?base64?{standard base64 of its UTF-8}?=`.
///
/// Plain means non-empty printable ASCII (space included) that neither starts nor ends with a
/// space and does not itself look like the sentinel. RFC 9110 would let an inner tab through, but
/// the conformance suite demands the sentinel for any tab, and servers must decode either form, so
/// every tab is encoded. An empty value is encoded too (`=?base64??=`): the suite accepts either,
/// and the sentinel does not depend on a browser sending an empty header.
pub fn encode_value(value: &str) -> String {
    if is_plain(value) {
        value.to_owned()
    } else {
        format!("{SENTINEL_PREFIX}{}{SENTINEL_SUFFIX}", STANDARD.encode(value))
    }
}

fn is_plain(value: &str) -> bool {
    let looks_encoded = value.starts_with(SENTINEL_PREFIX) && value.ends_with(SENTINEL_SUFFIX);
    !value.is_empty()
        && !value.starts_with(' ')
        && !value.ends_with(' ')
        && value.bytes().all(|b| (0x20..0x7f).contains(&b))
        && !looks_encoded
}

/// The JSON types an `x-mcp-header` property may have. `number` is not one: a fraction has no
/// single decimal text both ends would agree on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamType {
    String,
    Integer,
    Boolean,
}

impl ParamType {
    fn of(type_name: &str) -> Option<ParamType> {
        match type_name {
            "string" => Some(ParamType::String),
            "integer" => Some(ParamType::Integer),
            "boolean" => Some(ParamType::Boolean),
            _ => None,
        }
    }

    fn noun(self) -> &'static str {
        match self {
            ParamType::String => "a string",
            ParamType::Integer => "an integer",
            ParamType::Boolean => "true or false",
        }
    }
}

/// One valid `x-mcp-header` annotation of a tool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamHeader {
    /// The `{Name}` of `Mcp-Param-{Name}`, as declared (its case kept).
    pub name: String,
    /// The `properties` keys leading from the root of the arguments to the annotated property.
    pub path: Vec<String>,
    pub kind: ParamType,
}

impl ParamHeader {
    /// The header's full name: `Mcp-Param-Region`.
    pub fn header(&self) -> String {
        format!("{PARAM_HEADER_PREFIX}{}", self.name)
    }
}

/// Why a tool's `x-mcp-header` annotation is refused; the tool is then left out of the list.
/// `Display` is a sentence fragment naming the header and the reason; the caller names the tool.
/// `at` is where the annotation sits, as `inputSchema` followed by a JSON Pointer.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum InvalidParamHeader {
    #[error(
        "x-mcp-header {name:?} at {at} is not on a property reached through \"properties\" alone, so no argument can fill it"
    )]
    Unreachable { name: String, at: String },
    #[error("x-mcp-header at {at} is {found}, not a header name")]
    NotText { at: String, found: String },
    #[error("x-mcp-header at {at} is empty")]
    Empty { at: String },
    #[error(
        "x-mcp-header {name:?} is not a valid header name (only ASCII letters, digits and !#$%&'*+-.^_`|~)"
    )]
    NotAToken { name: String },
    #[error(
        "x-mcp-header {name:?} is on {}; only string, integer and boolean properties can be sent as headers",
        type_phrase(.found)
    )]
    NotPrimitive {
        name: String,
        /// The property's `type` as written, `None` when it has none.
        found: Option<String>,
    },
    #[error(
        "x-mcp-header {name:?} is declared twice (also as {first:?}; header names ignore case)"
    )]
    Duplicate { name: String, first: String },
}

fn type_phrase(found: &Option<String>) -> String {
    match found {
        Some(found) => format!("a property of type {found}"),
        None => "a property with no type".to_owned(),
    }
}

/// Every `x-mcp-header` annotation of a tool's `inputSchema`, in the order written, or the first
/// reason to refuse the tool. An annotation must sit on a property reached from the root through
/// `properties` keys alone; the keywords that lead anywhere else are searched too, so that an
/// annotation there refuses the tool instead of being silently dropped.
pub fn param_headers_of(input_schema: &Value) -> Result<Vec<ParamHeader>, InvalidParamHeader> {
    let mut found = Vec::new();
    visit(input_schema, "inputSchema", Some(&[]), &mut found)?;
    Ok(found)
}

/// Keywords whose subschemas lie off the `properties` chain: array items, composition,
/// conditionals, definitions, and the property keywords that match no fixed name.
const OFF_CHAIN: &[&str] = &[
    "items",
    "prefixItems",
    "additionalItems",
    "contains",
    "unevaluatedItems",
    "additionalProperties",
    "patternProperties",
    "propertyNames",
    "unevaluatedProperties",
    "dependentSchemas",
    "dependencies",
    "allOf",
    "anyOf",
    "oneOf",
    "not",
    "if",
    "then",
    "else",
    "$defs",
    "definitions",
    "contentSchema",
];

/// The ones among [`OFF_CHAIN`] whose value maps names to subschemas.
const SCHEMA_MAPS: &[&str] =
    &["patternProperties", "dependentSchemas", "dependencies", "$defs", "definitions"];

/// `path` is the chain of `properties` keys to `schema`, `None` once off that chain.
fn visit(
    schema: &Value,
    at: &str,
    path: Option<&[String]>,
    found: &mut Vec<ParamHeader>,
) -> Result<(), InvalidParamHeader> {
    let Value::Object(schema) = schema else { return Ok(()) };
    if let Some(annotation) = schema.get(ANNOTATION) {
        found.push(declaration(schema, annotation, at, path, found)?);
    }
    if let Some(Value::Object(properties)) = schema.get("properties") {
        for (key, child) in properties {
            let child_path = path.map(|path| [path, std::slice::from_ref(key)].concat());
            let child_at = format!("{at}/properties/{}", pointer_token(key));
            visit(child, &child_at, child_path.as_deref(), found)?;
        }
    }
    for &keyword in OFF_CHAIN {
        let Some(sub) = schema.get(keyword) else { continue };
        let at = format!("{at}/{}", pointer_token(keyword));
        match sub {
            Value::Array(list) => {
                for (i, child) in list.iter().enumerate() {
                    visit(child, &format!("{at}/{i}"), None, found)?;
                }
            }
            Value::Object(map) if SCHEMA_MAPS.contains(&keyword) => {
                for (key, child) in map {
                    visit(child, &format!("{at}/{}", pointer_token(key)), None, found)?;
                }
            }
            child => visit(child, &at, None, found)?,
        }
    }
    Ok(())
}

fn declaration(
    schema: &Map<String, Value>,
    annotation: &Value,
    at: &str,
    path: Option<&[String]>,
    earlier: &[ParamHeader],
) -> Result<ParamHeader, InvalidParamHeader> {
    let path = match path {
        Some(path) if !path.is_empty() => path,
        _ => {
            let name = annotation.as_str().map_or_else(|| annotation.to_string(), str::to_owned);
            return Err(InvalidParamHeader::Unreachable { name, at: at.to_owned() });
        }
    };
    let Value::String(name) = annotation else {
        return Err(InvalidParamHeader::NotText {
            at: at.to_owned(),
            found: annotation.to_string(),
        });
    };
    if name.is_empty() {
        return Err(InvalidParamHeader::Empty { at: at.to_owned() });
    }
    if !name.bytes().all(is_tchar) {
        return Err(InvalidParamHeader::NotAToken { name: name.clone() });
    }
    let declared = schema.get("type");
    let Some(kind) = declared.and_then(Value::as_str).and_then(ParamType::of) else {
        let found = declared.map(|t| t.as_str().map_or_else(|| t.to_string(), str::to_owned));
        return Err(InvalidParamHeader::NotPrimitive { name: name.clone(), found });
    };
    if let Some(first) = earlier.iter().find(|d| d.name.eq_ignore_ascii_case(name)) {
        return Err(InvalidParamHeader::Duplicate {
            name: name.clone(),
            first: first.name.clone(),
        });
    }
    Ok(ParamHeader { name: name.clone(), path: path.to_vec(), kind })
}

/// RFC 9110's `tchar`: the characters of a header name.
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// A key as one JSON Pointer reference token (RFC 6901).
fn pointer_token(key: &str) -> Cow<'_, str> {
    if key.contains(['~', '/']) {
        Cow::Owned(key.replace('~', "~0").replace('/', "~1"))
    } else {
        Cow::Borrowed(key)
    }
}

/// An argument that cannot be sent as the header its tool asks for; `Display` is a sentence for
/// the person, who must change the argument.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum BadParamValue {
    #[error(
        "The argument {argument:?} must be {}, not {found}: the server reads it from the header {header}.",
        expected.noun()
    )]
    WrongType { argument: String, header: String, expected: ParamType, found: &'static str },
    #[error(
        "The argument {argument:?} must be a whole number, not {text}: the server reads it from the header {header}."
    )]
    NotWhole { argument: String, header: String, text: String },
    #[error(
        "The argument {argument:?} is {text}, beyond ±9007199254740991, the largest integer the header {header} can carry; use a smaller number."
    )]
    TooLarge { argument: String, header: String, text: String },
}

/// The `Mcp-Param-{Name}` headers of one `tools/call`, in the order of `decls`. An argument
/// absent or `null` at its path sends no header; a string goes as it is, an integer as its
/// decimal digits (`1e3` as `1000`, `3.0` as `3`, as a JavaScript peer would write them), a
/// boolean as `true` or `false`, each then through [`encode_value`].
pub fn param_header_values(
    decls: &[ParamHeader],
    arguments: &Map<String, Value>,
) -> Result<Vec<(Cow<'static, str>, String)>, BadParamValue> {
    let mut headers = Vec::with_capacity(decls.len());
    for decl in decls {
        let Some(value) = value_at(arguments, &decl.path) else { continue };
        let text = header_text(decl, value)?;
        headers.push((Cow::Owned(decl.header()), encode_value(&text)));
    }
    Ok(headers)
}

/// The value at `path`, if there is one and it is not `null`. A parent that is not an object has
/// no value under it; whether the arguments fit the schema is the server's to judge.
fn value_at<'a>(arguments: &'a Map<String, Value>, path: &[String]) -> Option<&'a Value> {
    let (last, parents) = path.split_last()?;
    let mut object = arguments;
    for key in parents {
        object = object.get(key)?.as_object()?;
    }
    object.get(last).filter(|value| !value.is_null())
}

fn header_text(decl: &ParamHeader, value: &Value) -> Result<String, BadParamValue> {
    let argument = || decl.path.join(".");
    match (decl.kind, value) {
        (ParamType::String, Value::String(text)) => Ok(text.clone()),
        (ParamType::Boolean, Value::Bool(b)) => Ok(b.to_string()),
        (ParamType::Integer, Value::Number(number)) => {
            let text = number.to_string();
            integer_text(&text).map_err(|fault| match fault {
                IntegerFault::Fraction => {
                    BadParamValue::NotWhole { argument: argument(), header: decl.header(), text }
                }
                IntegerFault::TooLarge => {
                    BadParamValue::TooLarge { argument: argument(), header: decl.header(), text }
                }
            })
        }
        (expected, other) => Err(BadParamValue::WrongType {
            argument: argument(),
            header: decl.header(),
            expected,
            found: json_type(other),
        }),
    }
}

fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "true or false",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

#[derive(Debug, PartialEq, Eq)]
enum IntegerFault {
    Fraction,
    TooLarge,
}

/// The decimal digits of a JSON number's text (kept as written: serde_json's
/// `arbitrary_precision`), read exactly rather than through `f64`, so that `9007199254740993` is
/// not mistaken for its rounded neighbour. Text that is not a JSON number counts as a fraction.
fn integer_text(text: &str) -> Result<String, IntegerFault> {
    let (negative, unsigned) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (mantissa, exponent) = match unsigned.split_once(['e', 'E']) {
        Some((mantissa, exponent)) => (mantissa, exponent),
        None => (unsigned, "0"),
    };
    let (whole, fraction) = match mantissa.split_once('.') {
        Some((whole, fraction)) if !fraction.is_empty() => (whole, fraction),
        Some(_) => return Err(IntegerFault::Fraction),
        None => (mantissa, ""),
    };
    let exponent_digits = exponent.strip_prefix(['+', '-']).unwrap_or(exponent);
    let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !all_digits(whole)
        || !fraction.bytes().all(|b| b.is_ascii_digit())
        || !all_digits(exponent_digits)
    {
        return Err(IntegerFault::Fraction);
    }
    let digits = format!("{whole}{fraction}");
    let digits = digits.trim_start_matches('0');
    if digits.is_empty() {
        return Ok("0".to_owned());
    }
    let significant = digits.trim_end_matches('0');
    // The power of ten the significant digits are multiplied by, saturating: any exponent that
    // large is out of range (or all fraction) whatever the digits.
    let power: i64 = exponent_digits.parse().unwrap_or(i64::from(i32::MAX));
    let power = if exponent.starts_with('-') { -power } else { power };
    let scale = power
        .saturating_sub(fraction.len() as i64)
        .saturating_add((digits.len() - significant.len()) as i64);
    if scale < 0 {
        return Err(IntegerFault::Fraction);
    }
    if (significant.len() as i64).saturating_add(scale) > 16 {
        return Err(IntegerFault::TooLarge);
    }
    let magnitude = significant
        .parse::<u64>()
        .ok()
        .and_then(|m| m.checked_mul(10u64.checked_pow(scale as u32)?))
        .filter(|m| *m <= MAX_SAFE_INTEGER)
        .ok_or(IntegerFault::TooLarge)?;
    Ok(if negative { format!("-{magnitude}") } else { magnitude.to_string() })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(text: &str) -> Value {
        serde_json::from_str(text).unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    fn object(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            other => panic!("not an object: {other}"),
        }
    }

    fn owned(headers: Vec<(Cow<'static, str>, String)>) -> Vec<(String, String)> {
        headers.into_iter().map(|(n, v)| (n.into_owned(), v)).collect()
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter().map(|(n, v)| ((*n).to_owned(), (*v).to_owned())).collect()
    }

    fn decode(header: &str) -> String {
        let inner = header
            .strip_prefix(SENTINEL_PREFIX)
            .and_then(|rest| rest.strip_suffix(SENTINEL_SUFFIX))
            .unwrap_or_else(|| panic!("not a sentinel: {header:?}"));
        let bytes = STANDARD.decode(inner).unwrap_or_else(|e| panic!("{header}: {e}"));
        String::from_utf8(bytes).unwrap_or_else(|e| panic!("{header}: {e}"))
    }

    fn check_encoding(cases: &[(&str, &str)]) {
        for (value, expected) in cases {
            assert_eq!(encode_value(value), *expected, "{value:?}");
        }
    }

    #[test]
    fn the_specs_encoding_examples_encode_as_written() {
        check_encoding(&[
            ("us-west1", "us-west1"),
            ("Hello, 世界", "=?base64?SGVsbG8sIOS4lueVjA==?="),
            (" padded ", "=?base64?IHBhZGRlZCA=?="),
            ("line1\nline2", "=?base64?bGluZTEKbGluZTI=?="),
            ("=?base64?literal?=", "=?base64?PT9iYXNlNjQ/bGl0ZXJhbD89?="),
        ]);
    }

    #[test]
    fn any_tab_is_encoded_wherever_it_is() {
        check_encoding(&[
            ("\tindented", "=?base64?CWluZGVudGVk?="),
            ("a\tb", "=?base64?YQli?="),
            ("ab\t", "=?base64?YWIJ?="),
        ]);
    }

    #[test]
    fn control_characters_and_delete_are_encoded() {
        check_encoding(&[
            ("line1\r\nline2", "=?base64?bGluZTENCmxpbmUy?="),
            ("DEL\u{7f}", "=?base64?REVMfw==?="),
            ("nul\0", "=?base64?bnVsAA==?="),
        ]);
    }

    #[test]
    fn the_empty_string_is_the_empty_sentinel() {
        check_encoding(&[("", "=?base64??=")]);
    }

    #[test]
    fn one_leading_or_trailing_space_is_enough_to_encode() {
        check_encoding(&[
            (" us-west1", "=?base64?IHVzLXdlc3Qx?="),
            ("us-west1 ", "=?base64?dXMtd2VzdDEg?="),
            (" x", "=?base64?IHg=?="),
        ]);
    }

    #[test]
    fn only_the_exact_lowercase_sentinel_shape_is_encoded() {
        check_encoding(&[
            ("=?base64??=", "=?base64?PT9iYXNlNjQ/Pz0=?="),
            // The prefix and suffix overlap: still starts and ends like the sentinel.
            ("=?base64?=", "=?base64?PT9iYXNlNjQ/PQ==?="),
            ("=?BASE64?x?=", "=?BASE64?x?="),
            ("=?base64?x", "=?base64?x"),
            ("x?=", "x?="),
        ]);
    }

    #[test]
    fn printable_ascii_and_inner_spaces_go_plain() {
        let printable: String = (0x21u8..=0x7e).map(char::from).collect();
        check_encoding(&[("us west 1", "us west 1"), (&printable, &printable)]);
    }

    fn check_standard(method: &str, params: Option<Value>, name: Option<&str>) {
        let mut expected = vec![(METHOD_HEADER.to_owned(), method.to_owned())];
        if let Some(name) = name {
            expected.push((NAME_HEADER.to_owned(), name.to_owned()));
        }
        assert_eq!(owned(standard_headers(method, params.as_ref())), expected, "{method}");
    }

    #[test]
    fn every_request_names_its_method_and_only_six_name_their_target() {
        check_standard("initialize", Some(json!({"protocolVersion": "2025-11-25"})), None);
        check_standard("notifications/initialized", None, None);
        check_standard("server/discover", None, None);
        check_standard("tools/list", Some(json!({"name": "not-a-target"})), None);
        check_standard("resources/list", None, None);
        check_standard("prompts/list", None, None);
        check_standard("tools/call", Some(json!({"name": "test_headers"})), Some("test_headers"));
        check_standard(
            "tools/call",
            Some(json!({"name": "my-hyphenated-tool", "arguments": {}})),
            Some("my-hyphenated-tool"),
        );
        check_standard("prompts/get", Some(json!({"name": "test_prompt"})), Some("test_prompt"));
        check_standard(
            "resources/read",
            Some(json!({"uri": "file:///path/to/file%20name.txt"})),
            Some("file:///path/to/file%20name.txt"),
        );
        check_standard(
            "resources/read",
            Some(json!({"uri": "https://example.com/resource?id=123", "name": "x"})),
            Some("https://example.com/resource?id=123"),
        );
        for method in ["tasks/get", "tasks/update", "tasks/cancel"] {
            check_standard(
                method,
                Some(json!({"taskId": "786512e2", "name": "x"})),
                Some("786512e2"),
            );
        }
    }

    #[test]
    fn a_name_that_is_missing_or_not_text_sends_no_mcp_name() {
        check_standard("tools/call", None, None);
        check_standard("tools/call", Some(json!({"arguments": {}})), None);
        check_standard("tools/call", Some(json!({"name": 7})), None);
        check_standard("resources/read", Some(json!({"name": "file:///a"})), None);
    }

    #[test]
    fn an_unsafe_name_is_sent_as_the_sentinel() {
        check_standard(
            "tools/call",
            Some(json!({"name": "get_天気"})),
            Some("=?base64?Z2V0X+Wkqeawlw==?="),
        );
        check_standard("prompts/get", Some(json!({"name": ""})), Some("=?base64??="));
    }

    /// The `inputSchema` of `test_custom_headers` in the conformance suite's
    /// `http-custom-headers` scenario, as it lists it (descriptions left out).
    fn custom_headers_schema() -> Value {
        json!({
            "type": "object",
            "properties": {
                "region": {"type": "string", "x-mcp-header": "Region"},
                "priority": {"type": "integer", "x-mcp-header": "Priority"},
                "verbose": {"type": "boolean", "x-mcp-header": "Verbose"},
                "debug": {"type": "boolean", "x-mcp-header": "Debug"},
                "empty_val": {"type": "string", "x-mcp-header": "EmptyVal"},
                "method_val": {"type": "string", "x-mcp-header": "Method"},
                "float_val": {"type": "number"},
                "non_ascii_val": {"type": "string", "x-mcp-header": "NonAscii"},
                "whitespace_val": {"type": "string", "x-mcp-header": "Whitespace"},
                "leading_space_val": {"type": "string", "x-mcp-header": "LeadingSpace"},
                "trailing_space_val": {"type": "string", "x-mcp-header": "TrailingSpace"},
                "internal_space_val": {"type": "string", "x-mcp-header": "InternalSpace"},
                "control_char_val": {"type": "string", "x-mcp-header": "ControlChar"},
                "crlf_val": {"type": "string", "x-mcp-header": "CrLf"},
                "tab_val": {"type": "string", "x-mcp-header": "Tab"},
                "query": {"type": "string"}
            },
            "required": ["region", "priority", "query"]
        })
    }

    fn decls(schema: &Value) -> Vec<ParamHeader> {
        param_headers_of(schema).unwrap_or_else(|e| panic!("{schema}: {e}"))
    }

    fn values(decls: &[ParamHeader], arguments: &str) -> Vec<(String, String)> {
        let arguments = object(parse(arguments));
        owned(param_header_values(decls, &arguments).unwrap_or_else(|e| panic!("{e}")))
    }

    #[test]
    fn the_conformance_tool_declares_fourteen_headers_in_order() {
        let found = decls(&custom_headers_schema());
        let summary: Vec<(&str, &str, ParamType)> =
            found.iter().map(|d| (d.name.as_str(), d.path[0].as_str(), d.kind)).collect();
        use ParamType as P;
        assert_eq!(
            summary,
            [
                ("Region", "region", P::String),
                ("Priority", "priority", P::Integer),
                ("Verbose", "verbose", P::Boolean),
                ("Debug", "debug", P::Boolean),
                ("EmptyVal", "empty_val", P::String),
                ("Method", "method_val", P::String),
                ("NonAscii", "non_ascii_val", P::String),
                ("Whitespace", "whitespace_val", P::String),
                ("LeadingSpace", "leading_space_val", P::String),
                ("TrailingSpace", "trailing_space_val", P::String),
                ("InternalSpace", "internal_space_val", P::String),
                ("ControlChar", "control_char_val", P::String),
                ("CrLf", "crlf_val", P::String),
                ("Tab", "tab_val", P::String),
            ]
        );
        assert!(found.iter().all(|d| d.path.len() == 1));
    }

    #[test]
    fn the_conformance_call_sends_each_annotated_argument_encoded() {
        // `MCP_CONFORMANCE_CONTEXT.toolCalls[0]` of `http-custom-headers`, byte for byte.
        let arguments = r#"{"region":"us-west1","priority":42,"verbose":false,"debug":true,
            "empty_val":"","method_val":"test-method","float_val":3.14159,
            "non_ascii_val":"Hello, 世界","whitespace_val":" padded ",
            "leading_space_val":" us-west1","trailing_space_val":"us-west1 ",
            "internal_space_val":"us west 1","control_char_val":"line1\nline2",
            "crlf_val":"line1\r\nline2","tab_val":"\tindented","query":"SELECT * FROM users"}"#;
        let sent = values(&decls(&custom_headers_schema()), arguments);
        assert_eq!(
            sent,
            pairs(&[
                ("Mcp-Param-Region", "us-west1"),
                ("Mcp-Param-Priority", "42"),
                ("Mcp-Param-Verbose", "false"),
                ("Mcp-Param-Debug", "true"),
                ("Mcp-Param-EmptyVal", "=?base64??="),
                ("Mcp-Param-Method", "test-method"),
                ("Mcp-Param-NonAscii", "=?base64?SGVsbG8sIOS4lueVjA==?="),
                ("Mcp-Param-Whitespace", "=?base64?IHBhZGRlZCA=?="),
                ("Mcp-Param-LeadingSpace", "=?base64?IHVzLXdlc3Qx?="),
                ("Mcp-Param-TrailingSpace", "=?base64?dXMtd2VzdDEg?="),
                ("Mcp-Param-InternalSpace", "us west 1"),
                ("Mcp-Param-ControlChar", "=?base64?bGluZTEKbGluZTI=?="),
                ("Mcp-Param-CrLf", "=?base64?bGluZTENCmxpbmUy?="),
                ("Mcp-Param-Tab", "=?base64?CWluZGVudGVk?="),
            ])
        );
        // What the suite's checker does with each sentinel: decode and compare to the body.
        let body = object(parse(arguments));
        for (header, value) in sent.iter().filter(|(_, v)| v.starts_with(SENTINEL_PREFIX)) {
            let decl = decls(&custom_headers_schema()).into_iter().find(|d| d.header() == *header);
            let key = decl.map(|d| d.path[0].clone()).unwrap_or_default();
            assert_eq!(Some(decode(value).as_str()), body[&key].as_str(), "{header}");
        }
    }

    #[test]
    fn a_null_or_absent_argument_sends_no_header() {
        // `toolCalls[1]` of `http-custom-headers`: `verbose` is null.
        let schema = json!({"type": "object", "properties": {
            "region": {"type": "string", "x-mcp-header": "Region"},
            "priority": {"type": "integer", "x-mcp-header": "Priority"},
            "verbose": {"type": "boolean", "x-mcp-header": "Verbose"},
            "query": {"type": "string"}
        }});
        let found = decls(&schema);
        assert_eq!(
            values(
                &found,
                r#"{"region":"us-east1","priority":1,"verbose":null,"query":"SELECT 1"}"#
            ),
            pairs(&[("Mcp-Param-Region", "us-east1"), ("Mcp-Param-Priority", "1")])
        );
        assert_eq!(values(&found, r#"{"query":"SELECT 1"}"#), pairs(&[]));
    }

    #[test]
    fn a_nested_property_is_read_at_its_exact_path() {
        let schema = json!({"type": "object", "properties": {
            "target": {"type": "object", "properties": {
                "region": {"type": "string", "x-mcp-header": "Region"}
            }},
            "region": {"type": "string"}
        }});
        let found = decls(&schema);
        assert_eq!(found[0].path, ["target", "region"]);
        assert_eq!(
            values(&found, r#"{"region":"eu","target":{"region":"us"}}"#),
            pairs(&[("Mcp-Param-Region", "us")])
        );
        for nothing_there in [r#"{"region":"eu"}"#, r#"{"target":null}"#, r#"{"target":"us"}"#] {
            assert_eq!(values(&found, nothing_there), pairs(&[]), "{nothing_there}");
        }
    }

    fn check_integers(cases: &[(&str, Result<&str, IntegerFault>)]) {
        let found = decls(&json!({"properties": {"n": {"type": "integer", "x-mcp-header": "N"}}}));
        for (number, expected) in cases {
            let arguments = object(parse(&format!(r#"{{"n":{number}}}"#)));
            // The error quotes the number as serde_json keeps it (`1e16` as `1e+16`).
            let kept = arguments["n"].to_string();
            let sent = param_header_values(&found, &arguments);
            let got = match sent {
                Ok(headers) => Ok(owned(headers)),
                Err(BadParamValue::NotWhole { text, .. }) if text == kept => {
                    Err(IntegerFault::Fraction)
                }
                Err(BadParamValue::TooLarge { text, .. }) if text == kept => {
                    Err(IntegerFault::TooLarge)
                }
                Err(other) => panic!("{number}: {other:?}"),
            };
            let expected = match expected {
                Ok(text) => Ok(pairs(&[("Mcp-Param-N", text)])),
                Err(IntegerFault::Fraction) => Err(IntegerFault::Fraction),
                Err(IntegerFault::TooLarge) => Err(IntegerFault::TooLarge),
            };
            assert_eq!(got, expected, "{number}");
        }
    }

    #[test]
    fn integers_are_sent_as_their_decimal_digits() {
        check_integers(&[
            ("42", Ok("42")),
            ("-7", Ok("-7")),
            ("0", Ok("0")),
            ("-0", Ok("0")),
            ("1e3", Ok("1000")),
            ("1E+2", Ok("100")),
            ("3.0", Ok("3")),
            ("0.5e1", Ok("5")),
            ("100e-2", Ok("1")),
            ("0.000", Ok("0")),
        ]);
    }

    #[test]
    fn integers_stop_at_two_to_the_fifty_third_minus_one() {
        check_integers(&[
            ("9007199254740991", Ok("9007199254740991")),
            ("-9007199254740991", Ok("-9007199254740991")),
            ("9007199254740992", Err(IntegerFault::TooLarge)),
            ("-9007199254740992", Err(IntegerFault::TooLarge)),
            // Rounds to 9007199254740992 as an f64; read exactly, it is still too large.
            ("9007199254740993", Err(IntegerFault::TooLarge)),
            ("12345678901234567890", Err(IntegerFault::TooLarge)),
            ("9.007199254740991e15", Ok("9007199254740991")),
            ("1e16", Err(IntegerFault::TooLarge)),
            ("1e400", Err(IntegerFault::TooLarge)),
        ]);
    }

    #[test]
    fn an_integer_with_a_fraction_is_refused() {
        check_integers(&[
            ("3.14159", Err(IntegerFault::Fraction)),
            ("1.5", Err(IntegerFault::Fraction)),
            ("-0.5", Err(IntegerFault::Fraction)),
            ("1e-3", Err(IntegerFault::Fraction)),
            ("1e-400", Err(IntegerFault::Fraction)),
        ]);
    }

    #[test]
    fn integer_text_survives_extreme_exponents() {
        assert_eq!(integer_text("10e9223372036854775807"), Err(IntegerFault::TooLarge));
        assert_eq!(integer_text("1.55e-9223372036854775807"), Err(IntegerFault::Fraction));
        assert_eq!(integer_text("1e-9223372036854775808"), Err(IntegerFault::Fraction));
        assert_eq!(integer_text("1e99999999999999999999"), Err(IntegerFault::TooLarge));
    }

    #[test]
    fn integer_text_refuses_what_is_not_a_json_number() {
        for text in ["", "-", "1.", ".5", "1e", "0x10", "1_000", "NaN"] {
            assert_eq!(integer_text(text), Err(IntegerFault::Fraction), "{text:?}");
        }
    }

    #[test]
    fn an_argument_of_another_type_than_declared_is_refused_by_name() {
        let schema = json!({"properties": {
            "s": {"type": "string", "x-mcp-header": "S"},
            "i": {"type": "integer", "x-mcp-header": "I"},
            "b": {"type": "boolean", "x-mcp-header": "B"}
        }});
        let found = decls(&schema);
        let cases = [
            (r#"{"s":5}"#, "s", "Mcp-Param-S", ParamType::String, "a number"),
            (r#"{"s":{}}"#, "s", "Mcp-Param-S", ParamType::String, "an object"),
            (r#"{"i":"42"}"#, "i", "Mcp-Param-I", ParamType::Integer, "a string"),
            (r#"{"i":true}"#, "i", "Mcp-Param-I", ParamType::Integer, "true or false"),
            (r#"{"b":"true"}"#, "b", "Mcp-Param-B", ParamType::Boolean, "a string"),
            (r#"{"b":[true]}"#, "b", "Mcp-Param-B", ParamType::Boolean, "a list"),
        ];
        for (arguments, argument, header, expected, found_type) in cases {
            assert_eq!(
                param_header_values(&found, &object(parse(arguments))),
                Err(BadParamValue::WrongType {
                    argument: argument.to_owned(),
                    header: header.to_owned(),
                    expected,
                    found: found_type,
                }),
                "{arguments}"
            );
        }
    }

    #[test]
    fn a_bad_argument_reads_as_a_sentence_naming_it_and_its_header() {
        let schema = json!({"properties": {"job": {"type": "object", "properties": {
            "priority": {"type": "integer", "x-mcp-header": "Priority"}}}}});
        let found = decls(&schema);
        let sentence =
            |arguments: &str| match param_header_values(&found, &object(parse(arguments))) {
                Err(e) => e.to_string(),
                Ok(headers) => panic!("{arguments} sent {headers:?}"),
            };
        assert_eq!(
            sentence(r#"{"job":{"priority":"high"}}"#),
            "The argument \"job.priority\" must be an integer, not a string: the server reads it \
             from the header Mcp-Param-Priority."
        );
        assert_eq!(
            sentence(r#"{"job":{"priority":2.5}}"#),
            "The argument \"job.priority\" must be a whole number, not 2.5: the server reads it \
             from the header Mcp-Param-Priority."
        );
        assert_eq!(
            sentence(r#"{"job":{"priority":9007199254740992}}"#),
            "The argument \"job.priority\" is 9007199254740992, beyond ±9007199254740991, the \
             largest integer the header Mcp-Param-Priority can carry; use a smaller number."
        );
    }

    fn refusal(schema: &Value) -> InvalidParamHeader {
        match param_headers_of(schema) {
            Err(e) => e,
            Ok(found) => panic!("{schema} was accepted: {found:?}"),
        }
    }

    fn at(pointer: &str) -> String {
        format!("inputSchema{pointer}")
    }

    fn one_property(name: &str, property: Value) -> Value {
        json!({"type": "object", "properties": {name: property}, "required": [name]})
    }

    #[test]
    fn the_conformance_suites_valid_tool_is_kept() {
        let found =
            decls(&one_property("region", json!({"type": "string", "x-mcp-header": "Region"})));
        assert_eq!(
            found,
            [ParamHeader {
                name: "Region".into(),
                path: vec!["region".into()],
                kind: ParamType::String
            }]
        );
        assert_eq!(found[0].header(), "Mcp-Param-Region");
    }

    #[test]
    fn the_conformance_suites_eleven_invalid_tools_are_refused() {
        use InvalidParamHeader::*;
        let property = |name: &str, t: &str, header: &str| {
            one_property(name, json!({"type": t, "x-mcp-header": header}))
        };
        let token = |name: &str| NotAToken { name: name.to_owned() };
        let primitive =
            |name: &str, t: &str| NotPrimitive { name: name.into(), found: Some(t.into()) };
        let two = |first: &str, second: &str| {
            json!({"type": "object", "properties": {
                "field1": {"type": "string", "x-mcp-header": first},
                "field2": {"type": "string", "x-mcp-header": second}
            }})
        };
        let array = one_property(
            "items",
            json!({"type": "array", "items": {"type": "string"}, "x-mcp-header": "Items"}),
        );
        let cases = [
            (
                "invalid_empty_header",
                property("value", "string", ""),
                Empty { at: at("/properties/value") },
            ),
            (
                "invalid_object_header",
                property("data", "object", "Data"),
                primitive("Data", "object"),
            ),
            ("invalid_array_header", array, primitive("Items", "array")),
            ("invalid_null_header", property("nil", "null", "Nil"), primitive("Nil", "null")),
            (
                "invalid_number_header",
                property("score", "number", "Score"),
                primitive("Score", "number"),
            ),
            (
                "invalid_duplicate_same_case",
                two("Region", "Region"),
                Duplicate { name: "Region".into(), first: "Region".into() },
            ),
            (
                "invalid_duplicate_diff_case",
                two("MyField", "myfield"),
                Duplicate { name: "myfield".into(), first: "MyField".into() },
            ),
            ("invalid_space_in_name", property("value", "string", "My Region"), token("My Region")),
            (
                "invalid_colon_in_name",
                property("value", "string", "Region:Primary"),
                token("Region:Primary"),
            ),
            ("invalid_non_ascii_name", property("value", "string", "Région"), token("Région")),
            (
                "invalid_control_char_name",
                property("value", "string", "Region\t1"),
                token("Region\t1"),
            ),
        ];
        for (tool, schema, expected) in cases {
            assert_eq!(refusal(&schema), expected, "{tool}");
        }
    }

    #[test]
    fn a_refusal_reads_as_a_fragment_naming_the_header_and_the_reason() {
        let sentences = [
            (
                one_property("v", json!({"type": "string", "x-mcp-header": "My Region"})),
                "x-mcp-header \"My Region\" is not a valid header name (only ASCII letters, digits \
                 and !#$%&'*+-.^_`|~)",
            ),
            (
                one_property("v", json!({"type": "string", "x-mcp-header": "Region\t1"})),
                "x-mcp-header \"Region\\t1\" is not a valid header name (only ASCII letters, digits \
                 and !#$%&'*+-.^_`|~)",
            ),
            (
                one_property("score", json!({"type": "number", "x-mcp-header": "Score"})),
                "x-mcp-header \"Score\" is on a property of type number; only string, integer and \
                 boolean properties can be sent as headers",
            ),
            (
                one_property("v", json!({"x-mcp-header": "V"})),
                "x-mcp-header \"V\" is on a property with no type; only string, integer and \
                 boolean properties can be sent as headers",
            ),
            (
                json!({"properties": {
                    "a": {"type": "string", "x-mcp-header": "MyField"},
                    "b": {"type": "string", "x-mcp-header": "myfield"}}}),
                "x-mcp-header \"myfield\" is declared twice (also as \"MyField\"; header names \
                 ignore case)",
            ),
            (
                one_property("v", json!({"type": "string", "x-mcp-header": ""})),
                "x-mcp-header at inputSchema/properties/v is empty",
            ),
            (
                one_property("v", json!({"type": "string", "x-mcp-header": 5})),
                "x-mcp-header at inputSchema/properties/v is 5, not a header name",
            ),
            (
                one_property(
                    "tags",
                    json!({"type": "array", "items": {"type": "string", "x-mcp-header": "Tag"}}),
                ),
                "x-mcp-header \"Tag\" at inputSchema/properties/tags/items is not on a property \
                 reached through \"properties\" alone, so no argument can fill it",
            ),
        ];
        for (schema, sentence) in sentences {
            assert_eq!(refusal(&schema).to_string(), sentence, "{schema}");
        }
    }

    #[test]
    fn an_annotation_off_the_properties_chain_refuses_the_tool() {
        let header = json!({"type": "string", "x-mcp-header": "Hidden"});
        let cases = [
            (json!({"items": header}), "/items"),
            (json!({"prefixItems": [{"type": "string"}, header]}), "/prefixItems/1"),
            (json!({"additionalItems": header}), "/additionalItems"),
            (json!({"contains": header}), "/contains"),
            (json!({"unevaluatedItems": header}), "/unevaluatedItems"),
            (json!({"additionalProperties": header}), "/additionalProperties"),
            (json!({"patternProperties": {"^x/": header}}), "/patternProperties/^x~1"),
            (json!({"propertyNames": header}), "/propertyNames"),
            (json!({"unevaluatedProperties": header}), "/unevaluatedProperties"),
            (json!({"dependentSchemas": {"a": header}}), "/dependentSchemas/a"),
            (json!({"dependencies": {"a": header, "b": ["a"]}}), "/dependencies/a"),
            (json!({"allOf": [header]}), "/allOf/0"),
            (json!({"anyOf": [{"type": "string"}, header]}), "/anyOf/1"),
            (json!({"oneOf": [header]}), "/oneOf/0"),
            (json!({"not": header}), "/not"),
            (json!({"if": header}), "/if"),
            (json!({"then": header}), "/then"),
            (json!({"else": header}), "/else"),
            (json!({"$defs": {"Hidden": header}, "$ref": "#/$defs/Hidden"}), "/$defs/Hidden"),
            (json!({"definitions": {"a~b": header}}), "/definitions/a~0b"),
            (json!({"contentSchema": header}), "/contentSchema"),
        ];
        for (placement, pointer) in cases {
            let expected =
                InvalidParamHeader::Unreachable { name: "Hidden".into(), at: at(pointer) };
            let mut schema = json!({"type": "object", "properties": {
                "region": {"type": "string", "x-mcp-header": "Region"}}});
            for (key, value) in object(placement) {
                schema[&key] = value;
            }
            assert_eq!(refusal(&schema), expected, "{pointer}");
        }
    }

    #[test]
    fn properties_below_an_off_chain_keyword_stay_off_the_chain() {
        let schema = json!({"type": "object", "properties": {
            "rows": {"type": "array", "items": {"type": "object", "properties": {
                "region": {"type": "string", "x-mcp-header": "Region"}}}},
            "pick": {"oneOf": [{"properties": {"id": {"type": "integer", "x-mcp-header": 1}}}]}
        }});
        assert_eq!(
            refusal(&schema),
            InvalidParamHeader::Unreachable {
                name: "Region".into(),
                at: at("/properties/rows/items/properties/region"),
            }
        );
        let only_the_second = json!({"properties": {
            "pick": {"oneOf": [{"properties": {"id": {"type": "integer", "x-mcp-header": 1}}}]}}});
        assert_eq!(
            refusal(&only_the_second),
            InvalidParamHeader::Unreachable {
                name: "1".into(),
                at: at("/properties/pick/oneOf/0/properties/id"),
            }
        );
    }

    #[test]
    fn an_annotation_on_the_root_is_refused() {
        let schema = json!({"type": "string", "x-mcp-header": "Whole"});
        assert_eq!(
            refusal(&schema),
            InvalidParamHeader::Unreachable { name: "Whole".into(), at: "inputSchema".into() }
        );
    }

    #[test]
    fn only_a_single_primitive_type_may_carry_a_header() {
        let refused = [
            (json!(["string", "null"]), Some(r#"["string","null"]"#)),
            (json!("number"), Some("number")),
            (json!("Integer"), Some("Integer")),
            (json!(null), Some("null")),
        ];
        for (declared, found) in refused {
            let schema = one_property("v", json!({"type": declared, "x-mcp-header": "V"}));
            assert_eq!(
                refusal(&schema),
                InvalidParamHeader::NotPrimitive {
                    name: "V".into(),
                    found: found.map(str::to_owned)
                },
                "{declared}"
            );
        }
        let schema = one_property("v", json!({"enum": ["a"], "x-mcp-header": "V"}));
        assert_eq!(
            refusal(&schema),
            InvalidParamHeader::NotPrimitive { name: "V".into(), found: None }
        );
    }

    #[test]
    fn every_tchar_is_accepted_and_every_delimiter_refused() {
        let all_tchars =
            "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
        assert_eq!(
            decls(&one_property("v", json!({"type": "string", "x-mcp-header": all_tchars})))[0]
                .name,
            all_tchars
        );
        for delimiter in "\"(),/:;<=>?@[\\]{} \u{7f}\r\n".chars() {
            let name = format!("A{delimiter}B");
            let schema = one_property("v", json!({"type": "string", "x-mcp-header": name}));
            assert_eq!(refusal(&schema), InvalidParamHeader::NotAToken { name }, "{delimiter:?}");
        }
    }

    #[test]
    fn a_schema_without_annotations_declares_nothing() {
        for schema in [
            json!({"type": "object"}),
            json!({"type": "object", "properties": {"q": {"type": "string"}}}),
            // A property named like the keyword is not an annotation.
            json!({"type": "object", "properties": {"x-mcp-header": {"type": "string"}}}),
            json!(true),
            json!(null),
        ] {
            assert_eq!(param_headers_of(&schema), Ok(vec![]), "{schema}");
        }
    }
}
