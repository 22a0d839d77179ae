//! Typed reads of JSON object members, shared by the parsers of provider documents (discovery,
//! token response, JWT header and claims). Each parser turns [`WrongType`] into its own error
//! naming the member. A JSON `null` reads as an absent member: some providers write optional
//! fields that way.

use serde_json::{Map, Value};

/// A member is present with a JSON type (or range) other than the expected one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct WrongType;

/// A JSON object.
pub(crate) type Object = Map<String, Value>;

fn member<'a>(object: &'a Object, name: &str) -> Option<&'a Value> {
    object.get(name).filter(|value| !value.is_null())
}

/// A string member.
pub(crate) fn string<'a>(object: &'a Object, name: &str) -> Result<Option<&'a str>, WrongType> {
    match member(object, name) {
        None => Ok(None),
        Some(Value::String(text)) => Ok(Some(text)),
        Some(_) => Err(WrongType),
    }
}

/// An array of strings.
pub(crate) fn strings(object: &Object, name: &str) -> Result<Option<Vec<String>>, WrongType> {
    match member(object, name) {
        None => Ok(None),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| item.as_str().map(str::to_owned).ok_or(WrongType))
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        Some(_) => Err(WrongType),
    }
}

/// A string, or an array of strings (`aud`, RFC 7519 §4.1.3): as a list either way.
pub(crate) fn one_or_many(object: &Object, name: &str) -> Result<Option<Vec<String>>, WrongType> {
    match string(object, name) {
        Ok(one) => Ok(one.map(|one| vec![one.to_owned()])),
        Err(WrongType) => strings(object, name),
    }
}

/// A boolean member.
pub(crate) fn boolean(object: &Object, name: &str) -> Result<Option<bool>, WrongType> {
    match member(object, name) {
        None => Ok(None),
        Some(Value::Bool(value)) => Ok(Some(*value)),
        Some(_) => Err(WrongType),
    }
}

/// A JWT NumericDate (RFC 7519 §2): seconds since the epoch. Non-integer values are allowed by the
/// RFC and rounded down; values beyond ±2^53 (no real date) are a wrong type.
pub(crate) fn numeric_date(object: &Object, name: &str) -> Result<Option<i64>, WrongType> {
    const LIMIT: i64 = 1 << 53;
    match member(object, name) {
        None => Ok(None),
        Some(Value::Number(number)) => {
            let seconds = match number.as_i64() {
                Some(seconds) => seconds,
                None => {
                    let float = number.as_f64().filter(|f| f.is_finite()).ok_or(WrongType)?;
                    if float.abs() >= LIMIT as f64 {
                        return Err(WrongType);
                    }
                    // In range (checked above), so the conversion is exact after flooring.
                    float.floor() as i64
                }
            };
            if (-LIMIT..=LIMIT).contains(&seconds) {
                Ok(Some(seconds))
            } else {
                Err(WrongType)
            }
        }
        Some(_) => Err(WrongType),
    }
}

/// A non-negative integer. A string of digits is accepted too: some providers quote `expires_in`.
pub(crate) fn unsigned(object: &Object, name: &str) -> Result<Option<u64>, WrongType> {
    match member(object, name) {
        None => Ok(None),
        Some(Value::Number(number)) => number.as_u64().map(Some).ok_or(WrongType),
        Some(Value::String(text))
            if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) =>
        {
            text.parse().map(Some).map_err(|_| WrongType)
        }
        Some(_) => Err(WrongType),
    }
}

/// A whole number in `i64` (no fraction, no exponent, no quotes): what this app itself wrote.
pub(crate) fn integer(object: &Object, name: &str) -> Result<Option<i64>, WrongType> {
    match member(object, name) {
        None => Ok(None),
        Some(value) => value.as_i64().map(Some).ok_or(WrongType),
    }
}

/// A whole non-negative number in `u64` (no fraction, no exponent, no quotes): what this app
/// itself wrote.
pub(crate) fn whole(object: &Object, name: &str) -> Result<Option<u64>, WrongType> {
    match member(object, name) {
        None => Ok(None),
        Some(value) => value.as_u64().map(Some).ok_or(WrongType),
    }
}

/// Why a value this app stored (a session, a login transaction, a pending logout, a tab message)
/// cannot be read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Unreadable {
    /// The JSON ends early: a half-written value.
    Truncated,
    /// Not JSON.
    Corrupted,
    /// JSON of another shape: a member absent or of another type; says which.
    WrongShape(String),
}

/// Parses a stored JSON object.
pub(crate) fn stored_object(text: &str) -> Result<Object, Unreadable> {
    use serde_json::error::Category;
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(object)) => Ok(object),
        Ok(_) => Err(Unreadable::WrongShape("not a JSON object".into())),
        Err(error) => Err(match error.classify() {
            Category::Eof => Unreadable::Truncated,
            Category::Data => Unreadable::WrongShape(error.to_string()),
            Category::Syntax | Category::Io => Unreadable::Corrupted,
        }),
    }
}

/// Typed reads of a stored object's members, each error naming the member (`null` is an absent
/// member, unknown members are ignored). These replace derived `Deserialize` impls: one small
/// reader instead of a visitor per stored type in every app's bundle.
pub(crate) struct Members<'a>(pub &'a Object);

impl<'a> Members<'a> {
    fn wrong(name: &str, expected: &str) -> Unreadable {
        Unreadable::WrongShape(format!("`{name}` must be {expected}"))
    }

    /// A member that must be present.
    pub fn required<T>(name: &str, value: Option<T>) -> Result<T, Unreadable> {
        value.ok_or_else(|| Members::wrong(name, "present"))
    }

    pub fn text(&self, name: &str) -> Result<Option<String>, Unreadable> {
        string(self.0, name)
            .map(|value| value.map(str::to_owned))
            .map_err(|WrongType| Members::wrong(name, "a string"))
    }

    pub fn whole(&self, name: &str) -> Result<Option<u64>, Unreadable> {
        whole(self.0, name).map_err(|WrongType| Members::wrong(name, "a whole number"))
    }

    pub fn integer(&self, name: &str) -> Result<Option<i64>, Unreadable> {
        integer(self.0, name).map_err(|WrongType| Members::wrong(name, "a whole number"))
    }

    pub fn one_or_many(&self, name: &str) -> Result<Option<Vec<String>>, Unreadable> {
        one_or_many(self.0, name)
            .map_err(|WrongType| Members::wrong(name, "a string or an array of strings"))
    }

    pub fn boolean(&self, name: &str) -> Result<Option<bool>, Unreadable> {
        boolean(self.0, name).map_err(|WrongType| Members::wrong(name, "true or false"))
    }

    /// A member that is an object.
    pub fn object(&self, name: &str) -> Result<Members<'a>, Unreadable> {
        match self.0.get(name) {
            Some(Value::Object(object)) => Ok(Members(object)),
            _ => Err(Members::wrong(name, "a JSON object")),
        }
    }

    /// A member that is one of `names`: its index.
    pub fn choice(&self, name: &str, names: &[&str]) -> Result<Option<usize>, Unreadable> {
        let Some(value) = self.text(name)? else {
            return Ok(None);
        };
        match names.iter().position(|known| *known == value) {
            Some(index) => Ok(Some(index)),
            None => Err(Members::wrong(
                name,
                &format!("one of {}", names.join(", ")),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn object(value: Value) -> Object {
        match value {
            Value::Object(object) => object,
            _ => panic!("test input must be an object"),
        }
    }

    #[test]
    fn reads_typed_members() {
        let doc = object(json!({
            "s": "x", "n": null, "a": ["p", "q"], "bad_a": ["p", 1], "b": true, "i": 5,
            "f": 1.9, "neg": -1, "big": 1e300, "qs": "300", "qneg": "-3",
        }));
        assert_eq!(string(&doc, "s"), Ok(Some("x")));
        assert_eq!(string(&doc, "n"), Ok(None));
        assert_eq!(string(&doc, "absent"), Ok(None));
        assert_eq!(string(&doc, "i"), Err(WrongType));
        assert_eq!(strings(&doc, "a"), Ok(Some(vec!["p".into(), "q".into()])));
        assert_eq!(strings(&doc, "bad_a"), Err(WrongType));
        assert_eq!(strings(&doc, "s"), Err(WrongType));
        assert_eq!(one_or_many(&doc, "s"), Ok(Some(vec!["x".into()])));
        assert_eq!(
            one_or_many(&doc, "a"),
            Ok(Some(vec!["p".into(), "q".into()]))
        );
        assert_eq!(one_or_many(&doc, "n"), Ok(None));
        assert_eq!(one_or_many(&doc, "bad_a"), Err(WrongType));
        assert_eq!(one_or_many(&doc, "i"), Err(WrongType));
        assert_eq!(boolean(&doc, "b"), Ok(Some(true)));
        assert_eq!(boolean(&doc, "s"), Err(WrongType));
        assert_eq!(numeric_date(&doc, "i"), Ok(Some(5)));
        assert_eq!(numeric_date(&doc, "f"), Ok(Some(1)));
        assert_eq!(numeric_date(&doc, "neg"), Ok(Some(-1)));
        assert_eq!(numeric_date(&doc, "big"), Err(WrongType));
        assert_eq!(numeric_date(&doc, "qs"), Err(WrongType));
        assert_eq!(unsigned(&doc, "i"), Ok(Some(5)));
        assert_eq!(unsigned(&doc, "qs"), Ok(Some(300)));
        assert_eq!(unsigned(&doc, "neg"), Err(WrongType));
        assert_eq!(unsigned(&doc, "f"), Err(WrongType));
        assert_eq!(unsigned(&doc, "qneg"), Err(WrongType));
        assert_eq!(integer(&doc, "neg"), Ok(Some(-1)));
        assert_eq!(integer(&doc, "n"), Ok(None));
        for name in ["f", "big", "qs", "s"] {
            assert_eq!(integer(&doc, name), Err(WrongType), "{name}");
            assert_eq!(whole(&doc, name), Err(WrongType), "{name}");
        }
        assert_eq!(whole(&doc, "i"), Ok(Some(5)));
        assert_eq!(whole(&doc, "neg"), Err(WrongType));
    }
}
