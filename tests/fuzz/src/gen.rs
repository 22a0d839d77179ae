//! Generators shared by the targets: hostile text, percent-encoding in several styles, JSON values.

use proptest::prelude::*;
use serde_json::{Map, Value};

/// Short strings that have broken parsers before: controls, NUL, BOM, bidi overrides, surrogate and
/// overlong escapes, lone `%`, characters of the URL and JSON syntax.
pub const NASTY: &[&str] = &[
    "",
    "\0",
    "a\0b",
    "\u{FEFF}",
    "\u{202E}",
    "\u{10FFFF}",
    "🙂",
    "é",
    "\r\n",
    "\t",
    "\u{7F}",
    "\u{85}",
    "%",
    "%%",
    "%2",
    "%zz",
    "%00",
    "%C0%80",
    "%ED%A0%80",
    "%F4%90%80%80",
    "%FF",
    "+",
    "&",
    "=",
    "#",
    "?",
    ".",
    "..",
    "\"",
    "\\",
    "<script>",
    "null",
    "[]",
    "{}",
    "0",
    "-1",
    "4294967295",
    "4294967296",
    "1e400",
    "NaN",
];

/// Text of every kind: printable ASCII, any Unicode, the nasty list, and now and then a huge run.
pub fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        40 => short_text(),
        1 => huge(),
    ]
}

/// [`text`] without the huge runs.
pub fn short_text() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => fast_text(Alphabet::Printable, 24),
        4 => fast_text(Alphabet::Any, 24),
        2 => fast_text(Alphabet::Form, 24),
        4 => prop::sample::select(NASTY).prop_map(str::to_owned),
    ]
}

/// [`fast_text`] with every character `keep` refuses turned into `x`, and at least `min` long (padded
/// with `x`): the values of a character class.
pub fn class_text(
    alphabet: Alphabet,
    min: usize,
    max: usize,
    keep: fn(char) -> bool,
) -> impl Strategy<Value = String> {
    fast_text(alphabet, max).prop_map(move |text| {
        let mut text: String = text
            .chars()
            .map(|c| if keep(c) { c } else { 'x' })
            .collect();
        while text.chars().count() < min {
            text.push('x');
        }
        text
    })
}

/// The characters [`fast_text`] draws from.
#[derive(Clone, Copy, Debug)]
pub enum Alphabet {
    /// `' '..='~'`.
    Printable,
    /// ASCII letters, digits, `-`, `_`, `.`.
    Token,
    /// The syntax of form text and escapes: `%`, hex digits, `&`, `=`, `+`, `#`, `?`, a space.
    Form,
    /// Any scalar value, weighted towards the edges: controls, NUL, Latin-1, surrogate neighbours,
    /// noncharacters, astral planes.
    Any,
}

/// A string of up to `max` characters from `alphabet`. Built from a seed rather than char by char:
/// proptest's per-character value trees made the million-case runs several times slower. It still
/// shrinks (to shorter strings, then to other seeds).
pub fn fast_text(alphabet: Alphabet, max: usize) -> impl Strategy<Value = String> {
    (0..=max, any::<u64>()).prop_map(move |(len, seed)| {
        let mut state = seed | 1;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        (0..len)
            .map(|_| {
                let r = next();
                let pick = |set: &[u8]| char::from(set[(r >> 8) as usize % set.len()]);
                match alphabet {
                    Alphabet::Printable => char::from(b' ' + (r >> 8) as u8 % 95),
                    Alphabet::Token => pick(b"ABCXYZabcxyz0189-_."),
                    Alphabet::Form => pick(b"%%%0123456789abcdefABCDEF&=+#? "),
                    Alphabet::Any => {
                        let code = match r % 8 {
                            0 => (r >> 8) as u32 % 0x20,
                            1 | 2 => 0x20 + (r >> 8) as u32 % 0x5F,
                            3 => 0x7F + (r >> 8) as u32 % 0x81,
                            4 => 0x100 + (r >> 8) as u32 % 0xD700,
                            5 => 0xE000 + (r >> 8) as u32 % 0x2000,
                            6 => [
                                0xD7FF, 0xFEFF, 0xFFFD, 0xFFFE, 0xFFFF, 0x202E, 0x10FFFF, 0x1F642,
                            ][(r >> 8) as usize % 8],
                            _ => 0x10000 + (r >> 8) as u32 % 0x100000,
                        };
                        char::from_u32(code).unwrap_or('\u{FFFD}')
                    }
                }
            })
            .collect()
    })
}

/// A run of one short piece repeated to 1 to 40 thousand bytes: past every size bound here.
pub fn huge() -> impl Strategy<Value = String> {
    (
        prop::sample::select(&["a", "%41", "é", ".", "&", "\0", "🙂"][..]),
        1_000usize..40_000,
    )
        .prop_map(|(piece, bytes)| piece.repeat(bytes / piece.len() + 1))
}

/// How a name or value is written in `application/x-www-form-urlencoded` text.
#[derive(Clone, Copy, Debug)]
pub enum Escape {
    /// Only what must be escaped (`%`, `&`, `=`, `+`, `#`, `?` and non-ASCII), upper-case hex.
    Minimal,
    /// Every byte as `%XX`, lower-case hex.
    All,
    /// Spaces as `+`, the rest like `Minimal`.
    Plus,
    /// Byte by byte at random (the seed's bits), mixed-case hex.
    Mixed(u64),
}

pub fn escape() -> impl Strategy<Value = Escape> {
    prop_oneof![
        Just(Escape::Minimal),
        Just(Escape::All),
        Just(Escape::Plus),
        any::<u64>().prop_map(Escape::Mixed),
    ]
}

/// `text` form-encoded in the given style; the decoded text is always `text` again.
pub fn form_encode(text: &str, style: Escape) -> String {
    let mut out = String::with_capacity(text.len() * 3);
    let mut bits = match style {
        Escape::Mixed(seed) => seed | 1,
        _ => 0,
    };
    for &byte in text.as_bytes() {
        let must = !(byte.is_ascii_graphic() || byte == b' ')
            || matches!(byte, b'%' | b'&' | b'=' | b'+' | b'#' | b'?');
        // xorshift: a fresh bit per byte for the mixed style.
        bits ^= bits << 13;
        bits ^= bits >> 7;
        bits ^= bits << 17;
        let (escape, upper) = match style {
            Escape::Minimal => (must || byte == b' ', true),
            Escape::All => (true, false),
            Escape::Plus if byte == b' ' => {
                out.push('+');
                continue;
            }
            Escape::Plus => (must, true),
            Escape::Mixed(_) => (must || byte == b' ' || bits & 1 == 1, bits & 2 == 2),
        };
        if escape {
            if upper {
                out.push_str(&format!("%{byte:02X}"));
            } else {
                out.push_str(&format!("%{byte:02x}"));
            }
        } else {
            out.push(char::from(byte));
        }
    }
    out
}

/// Any JSON value, nested up to a few levels, with strings from [`text`].
pub fn json_value() -> BoxedStrategy<Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        text().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((fast_text(Alphabet::Token, 8), inner), 0..6)
                .prop_map(|members| Value::Object(members.into_iter().collect::<Map<_, _>>())),
        ]
    })
    .boxed()
}

/// Text that is not quite JSON, or JSON that a parser might choke on: truncated, deeply nested
/// (past serde_json's recursion limit), trailing garbage, a BOM, huge numbers.
pub fn broken_json() -> impl Strategy<Value = String> {
    prop_oneof![
        (json_value(), any::<prop::sample::Index>()).prop_map(|(value, cut)| {
            let text = value.to_string();
            let at = cut.index(text.len() + 1);
            text.get(..at).unwrap_or(&text).to_owned()
        }),
        (1usize..400).prop_map(|depth| "[".repeat(depth) + &"]".repeat(depth)),
        (1usize..400).prop_map(|depth| "{\"a\":".repeat(depth) + "1" + &"}".repeat(depth)),
        json_value().prop_map(|value| format!("{value} x")),
        json_value().prop_map(|value| format!("\u{FEFF}{value}")),
        Just("1".repeat(500)),
        Just("-0.0e-99999".to_owned()),
        Just("{\"a\":1,\"a\":2}".to_owned()),
        text(),
    ]
}
