//! Reading typed values out of parsed JSON by hand. Every answer is parsed into a
//! [`serde_json::Value`] once; the console's types are then read from it with [`Fields`], which
//! takes the known members out of an object and leaves the rest as the type's `extra`. serde's
//! derived readers for the same shapes (flattened extras, tagged and untagged enums) weighed
//! 14.7 KB of the gzipped wasm for the protocol's types alone.

use serde_json::{Map, Value};

/// What was wrong with a JSON value: a member that is missing or of the wrong type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is missing or of the wrong type")]
pub struct Malformed(pub &'static str);

/// A number as a person would write it: `18`, `0.5`, `1e308`. Written by serde_json's float
/// formatter, which the console carries anyway, not `f64`'s `Display`, which would add its own.
pub fn number_text(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        return (x as i64).to_string();
    }
    let text = Value::from(x).to_string().replace("e+", "e");
    match text.strip_suffix(".0") {
        Some(whole) => whole.to_owned(),
        None => text,
    }
}

/// A type read out of a JSON value.
pub trait FromJson: Sized {
    fn from_json(value: Value) -> Result<Self, Malformed>;
}

/// A JSON object being read member by member; what is not taken is [`Fields::rest`].
pub struct Fields(Map<String, Value>);

impl Fields {
    /// `value` as an object; anything else is [`Malformed`] (named `what`).
    pub fn of(value: Value, what: &'static str) -> Result<Fields, Malformed> {
        match value {
            Value::Object(map) => Ok(Fields(map)),
            _ => Err(Malformed(what)),
        }
    }

    /// Takes member `key` out, keeping the order of the others.
    pub fn take(&mut self, key: &str) -> Option<Value> {
        self.0.shift_remove(key)
    }

    /// A string that must be there.
    pub fn string(&mut self, key: &'static str) -> Result<String, Malformed> {
        match self.take(key) {
            Some(Value::String(s)) => Ok(s),
            _ => Err(Malformed(key)),
        }
    }

    /// A string that may be missing (then empty), but is a string if present.
    pub fn string_or_empty(&mut self, key: &'static str) -> Result<String, Malformed> {
        Ok(self.optional_string(key)?.unwrap_or_default())
    }

    /// A string that may be missing or null.
    pub fn optional_string(&mut self, key: &'static str) -> Result<Option<String>, Malformed> {
        match self.take(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(Malformed(key)),
        }
    }

    /// A boolean that may be missing or null.
    pub fn optional_bool(&mut self, key: &'static str) -> Result<Option<bool>, Malformed> {
        match self.take(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(b)),
            Some(_) => Err(Malformed(key)),
        }
    }

    /// Any value that may be missing or null.
    pub fn optional(&mut self, key: &'static str) -> Option<Value> {
        self.take(key).filter(|v| !v.is_null())
    }

    /// An object that may be missing (then empty).
    pub fn object_or_empty(&mut self, key: &'static str) -> Result<Map<String, Value>, Malformed> {
        match self.take(key) {
            None => Ok(Map::new()),
            Some(Value::Object(map)) => Ok(map),
            Some(_) => Err(Malformed(key)),
        }
    }

    /// An array whose every item `read` accepts; missing is empty.
    pub fn list<T>(
        &mut self,
        key: &'static str,
        read: impl Fn(Value) -> Result<T, Malformed>,
    ) -> Result<Vec<T>, Malformed> {
        Ok(self.optional_list(key, read)?.unwrap_or_default())
    }

    /// An array whose every item `read` accepts, or nothing when missing or null.
    pub fn optional_list<T>(
        &mut self,
        key: &'static str,
        read: impl Fn(Value) -> Result<T, Malformed>,
    ) -> Result<Option<Vec<T>>, Malformed> {
        match self.take(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Array(items)) => {
                items.into_iter().map(read).collect::<Result<_, _>>().map(Some)
            }
            Some(_) => Err(Malformed(key)),
        }
    }

    /// An array of strings, or nothing when missing or null.
    pub fn optional_strings(
        &mut self,
        key: &'static str,
    ) -> Result<Option<Vec<String>>, Malformed> {
        self.optional_list(key, |item| match item {
            Value::String(s) => Ok(s),
            _ => Err(Malformed(key)),
        })
    }

    /// The members nobody took, in their order.
    pub fn rest(self) -> Map<String, Value> {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn fields(v: Value) -> Fields {
        Fields::of(v, "test").unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn numbers_read_as_a_person_writes_them() {
        for (x, text) in [(18.0, "18"), (-3.0, "-3"), (0.5, "0.5"), (1e308, "1e308")] {
            assert_eq!(number_text(x), text);
        }
        assert_eq!(number_text(-0.00001), "-0.00001");
        assert_eq!(number_text(1e15), "1000000000000000");
        assert_eq!(number_text(1e16), "1e16");
        assert_eq!(number_text(2.5e-3), "0.0025");
    }

    #[test]
    fn only_objects_are_read() {
        for v in [json!(null), json!([]), json!("a"), json!(1)] {
            assert_eq!(Fields::of(v, "thing").err(), Some(Malformed("thing")));
        }
    }

    #[test]
    fn members_are_taken_by_type_and_the_rest_keeps_its_order() {
        let mut f = fields(json!({"z": 1, "name": "n", "a": 2, "title": null, "ok": true, "m": 3}));
        assert_eq!(f.string("name"), Ok("n".into()));
        assert_eq!(f.optional_string("title"), Ok(None));
        assert_eq!(f.optional_bool("ok"), Ok(Some(true)));
        assert_eq!(f.string_or_empty("absent"), Ok(String::new()));
        let rest: Vec<_> = f.rest().into_iter().map(|(k, _)| k).collect();
        assert_eq!(rest, ["z", "a", "m"]);
    }

    #[test]
    fn a_member_of_the_wrong_type_is_named() {
        let mut f = fields(json!({"name": 1, "flag": "yes", "items": {}, "caps": [], "t": 2}));
        assert_eq!(f.string("name"), Err(Malformed("name")));
        assert_eq!(f.optional_bool("flag"), Err(Malformed("flag")));
        assert_eq!(f.list("items", Ok), Err(Malformed("items")));
        assert_eq!(f.object_or_empty("caps"), Err(Malformed("caps")));
        assert_eq!(f.optional_string("t"), Err(Malformed("t")));
        assert_eq!(f.string("missing"), Err(Malformed("missing")));
    }

    #[test]
    fn one_bad_item_fails_a_list() {
        let read = |v: Value| v.as_u64().ok_or(Malformed("item"));
        let mut f = fields(json!({"good": [1, 2], "bad": [1, "x"], "none": null}));
        assert_eq!(f.list("good", read), Ok(vec![1, 2]));
        assert_eq!(f.list("bad", read), Err(Malformed("item")));
        assert_eq!(f.optional_list("none", read), Ok(None));
        assert_eq!(f.list("absent", read), Ok(vec![]));
        let mut f = fields(json!({"names": ["a", "b"], "mixed": ["a", 1]}));
        assert_eq!(f.optional_strings("names"), Ok(Some(vec!["a".into(), "b".into()])));
        assert_eq!(f.optional_strings("mixed"), Err(Malformed("mixed")));
    }
}
