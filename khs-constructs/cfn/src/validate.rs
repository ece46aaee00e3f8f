//! Schema-driven validation of resource properties at synthesis, for typed
//! resources and [`crate::RawResource`] alike (hand-written; the data is
//! generated into `validate_data.rs`).
//!
//! Each type's registry schema, reduced to the keywords that constrain
//! values and merged with cfn-lint's extension schemas (allowed instance
//! classes, engine versions, record formats, Fargate sizes, …), is checked
//! against the properties as they will be written to the template: enums,
//! `const`, patterns, ranges, lengths, item counts, required and unknown
//! properties, and the `allOf`/`anyOf`/`oneOf`/`not`/`if`-`then`-`else`
//! combinations of the schemas.
//!
//! Each type's data is compiled into arenas of schemas with the keywords as
//! fields, `$ref` as an index, allowed values sorted for binary search and
//! patterns compiled once. That form is encoded at build time
//! (`validate_code.bin`, see `validate/code.rs`), and a process decodes
//! each part of a type once, on first use. Where the file does not fit the
//! data (it is older), a part is compiled on first use from the generated
//! JSON text instead, with no intermediate JSON tree; that is also how the
//! file is written. A check then walks the properties without a map look-up
//! per keyword. The parts: the type's schema without its `definitions` and
//! `properties` is decoded (or compiled) at once; a definition when a
//! `$ref` first reaches it, a property when a resource first sets it, and
//! an extension rule when its path first reaches a value (in the text, a
//! small scanner locates them without compiling them). Strings are borrowed
//! from the code or the generated text (owned only when the text holds
//! escapes). Simple patterns (runs of ASCII classes, alternatives of plain
//! texts) are matched without compiling a regex; the others with
//! `regex-lite`. A schema used as a condition (`if`, `not`, `contains`, the
//! alternatives of `anyOf`/`oneOf`) is checked without making messages, and
//! stops at its first violation.
//!
//! Values CloudFormation resolves at deploy time (`Ref`, `Fn::*`) are never
//! judged: a schema applied to one is undecided, and an undecided condition
//! applies neither its `then` nor its `else`. A keyword the validator does
//! not know makes its schema undecided in the same way. So the validator
//! reports only what is certainly wrong.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::{Mutex, OnceLock};

use regex_lite::Regex;
use serde::Deserialize;
use serde::de::value::CowStrDeserializer;
use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value as Json};

use khs_core::error::{Error, Result};
use khs_core::path::ConstructPath;

use khs_core::json_scan::{skip_ws, string_end, value_end};

use crate::registry::{KNOWN_TYPES, index_of};
use crate::validate_data::SCHEMAS;

mod code;

/// How many allowed values a message lists before it abbreviates.
const LIST_LIMIT: usize = 12;

/// Checks `properties` (the `Properties` object as it will be written) of a
/// resource of type `type_name` at `path`. Types the registry does not know
/// (custom resources) pass.
pub fn properties(type_name: &str, properties: &Json, path: &ConstructPath) -> Result<()> {
    let Some(compiled) = compiled_of(type_name) else {
        return Ok(());
    };
    let Some(root) = compiled.root else {
        return Ok(());
    };
    let mut check = Check::default();
    // One buffer for every path walked (it is empty again after each walk).
    let mut at = At(String::with_capacity(64), Untracked(false));
    compiled.assert(root, properties, &mut at, &mut check);
    for (index, ext) in compiled.extensions.iter().enumerate() {
        let before = check.out.len();
        apply_at(&ext.at, properties, &mut at, &mut |value, here| {
            // Compiled when its path first reaches a value.
            compiled.assert(compiled.extension(index), value, here, &mut check);
        });
        for v in &mut check.out[before..] {
            v.message.push_str(" (");
            v.message.push_str(&ext.rule);
            v.message.push(')');
        }
    }
    match check.out.into_iter().next() {
        None => Ok(()),
        Some(v) => Err(Error::SchemaViolation {
            path: path.to_string(),
            type_name: type_name.to_string(),
            property: if v.at.is_empty() {
                "(the properties object)".to_string()
            } else {
                v.at
            },
            message: v.message,
        }),
    }
}

/// Calls `f` with every value at `at` below `value` (`*` is any list item
/// or object entry).
fn apply_at(at: &[Str], value: &Json, here: &mut At, f: &mut dyn FnMut(&Json, &mut At)) {
    if is_intrinsic(value) {
        return;
    }
    let Some((first, rest)) = at.split_first() else {
        f(value, here);
        return;
    };
    match (value, first.as_ref()) {
        (Json::Array(items), "*") => {
            for (i, item) in items.iter().enumerate() {
                let mark = here.enter_index(i);
                apply_at(rest, item, here, f);
                here.leave(mark);
            }
        }
        (Json::Object(map), "*") => {
            for (k, item) in map {
                let mark = here.enter(k);
                apply_at(rest, item, here, f);
                here.leave(mark);
            }
        }
        (Json::Object(map), key) => {
            if let Some(item) = map.get(key) {
                let mark = here.enter(key);
                apply_at(rest, item, here, f);
                here.leave(mark);
            }
        }
        _ => {}
    }
}

/// The validation data of a type (`{"s": schema, "x": [[who, path, schema], …]}`:
/// its reduced registry schema and the extension rules at their paths) as
/// JSON, parsed anew on each call; `None` for types the registry does not
/// know. Synthesis does not use it: it checks against the compiled form.
pub fn schema(type_name: &str) -> Option<Json> {
    let index = index_of(type_name)?;
    serde_json::from_str(SCHEMAS.get(index)?).ok()
}

/// Whether the validation data of `type_name` compiles into the form
/// synthesis checks against (`false` for types the registry does not know).
pub fn compiles(type_name: &str) -> bool {
    compiled_of(type_name).is_some_and(|c| c.root.is_some() && c.compiles_all())
}

/// The compiled validation data of a type, once per process and type, on
/// first use; `None` for types the registry does not know.
fn compiled_of(type_name: &str) -> Option<&'static Compiled> {
    static COMPILED: OnceLock<Vec<OnceLock<Option<Box<Compiled>>>>> = OnceLock::new();
    let index = index_of(type_name)?;
    let cells = COMPILED.get_or_init(|| (0..SCHEMAS.len()).map(|_| OnceLock::new()).collect());
    cells
        .get(index)?
        .get_or_init(|| {
            let text = SCHEMAS.get(index)?;
            // The committed code of the compiled form, else the text.
            code::compiled(index, text)
                .unwrap_or_else(|| Compiled::parse(text))
                .map(Box::new)
        })
        .as_deref()
}

/// For the test that keeps `validate_code.bin` current: the code of every
/// type's compiled data, encoded from the JSON texts of `validate_data.rs`.
#[doc(hidden)]
pub fn code_from_data() -> Vec<u8> {
    code::encode_all(SCHEMAS)
}

/// For that test: the code compiled into this build (`validate_code.bin`).
#[doc(hidden)]
pub fn committed_code() -> &'static [u8] {
    code::committed()
}

/// For that test: whether `validate_data::FINGERPRINT`, which the
/// generator wrote, is the fingerprint of the data beside it (the file
/// records the fingerprint of the data it was written from).
#[doc(hidden)]
pub fn data_fingerprint_is_current() -> bool {
    code::fingerprint(SCHEMAS.iter().copied()) == crate::validate_data::FINGERPRINT
}

/// For that test: whether `code` (such as [`committed_code`]) has an entry
/// for `type_name` that fits a JSON text of `text_len` bytes and the data of
/// this build (one that does not is not used: the type is compiled from its
/// text).
#[doc(hidden)]
pub fn code_fits(code: &'static [u8], type_name: &str, text_len: usize) -> bool {
    index_of(type_name).is_some_and(|index| code::fits(code, index, text_len))
}

/// For that test: the first type whose committed code, decoded with all
/// its parts, does not encode to the same code again (`None`: none).
#[doc(hidden)]
pub fn code_that_does_not_reencode() -> Option<String> {
    code::first_that_does_not_reencode(KNOWN_TYPES, SCHEMAS)
}

/// A compiled pattern, once per process and source (the same pattern
/// appears in many schemas); `None` when the pattern is not one
/// `regex-lite` accepts (ECMAScript look-arounds, Unicode classes such as
/// `\p{L}`): then it is not checked. `regex-lite` rather than `regex`
/// because it compiles in a fraction of the time, and the schemas' patterns
/// are short and few per template. Many patterns are simpler still (a run
/// of ASCII classes, `^[a-zA-Z0-9_-]{1,128}$`, `^arn:aws[a-z-]*:sqs:…`):
/// those are matched by [`Simple`], without compiling a regex (which costs
/// about a hundred allocations each).
///
/// The compiled patterns live as long as the process (as the cache that
/// holds them would), so that each schema node holds a reference only.
fn compile_pattern(source: &Str) -> Option<&'static Matcher> {
    static CACHE: OnceLock<Mutex<HashMap<Str, Option<&'static Matcher>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(|| Mutex::new(HashMap::new()));
    let compile = || {
        let matcher = match Simple::parse(source) {
            Some(simple) => Matcher::Simple(simple),
            None => Matcher::Regex(Regex::new(source).ok()?),
        };
        Some(&*Box::leak(Box::new(matcher)))
    };
    // A poisoned cache still holds what was compiled.
    let mut map = cache
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(compiled) = map.get(source.as_ref()) {
        return *compiled;
    }
    let compiled = compile();
    map.insert(source.clone(), compiled);
    compiled
}

/// How a pattern is matched.
enum Matcher {
    Simple(Simple),
    Regex(Regex),
}

impl Matcher {
    fn is_match(&self, text: &str) -> bool {
        match self {
            Matcher::Simple(simple) => simple.is_match(text),
            Matcher::Regex(re) => re.is_match(text),
        }
    }
}

/// For the tests, which check that the patterns matched without a regex
/// are matched as `regex-lite` matches them: whether each text matches
/// pattern `source` as the validator matches it, and as `regex-lite` does
/// (`None`: it does not compile the pattern); `None` when the validator
/// leaves the pattern to `regex-lite`.
#[doc(hidden)]
pub fn simple_pattern_matches(source: &str, texts: &[String]) -> Option<Vec<(bool, Option<bool>)>> {
    let simple = Simple::parse(source)?;
    let regex = Regex::new(source).ok();
    Some(
        texts
            .iter()
            .map(|t| (simple.is_match(t), regex.as_ref().map(|re| re.is_match(t))))
            .collect(),
    )
}

/// A pattern simple enough to match without a regex, in one pass.
struct Simple {
    shape: Shape,
    /// `^`: the match starts at the start of the text (else anywhere).
    start: bool,
    /// `$`: the match ends at the end of the text (else anywhere).
    end: bool,
}

enum Shape {
    /// A sequence of character classes, each repeated
    /// (`^[a-z][a-z0-9-]{0,62}$`, `^arn:aws[a-z-]*:iam::\d{12}:…`, `^.{1,128}$`,
    /// `^[^:]`, groups of plain characters included), matched without
    /// backtracking: accepted only when every item whose count varies is
    /// the last, or is followed by one that needs a character it does not
    /// accept (so the greedy run is the only way to match).
    Sequence(Vec<Item>),
    /// `(one|two|…)` of plain characters: one of these texts.
    OneOf(Vec<Vec<u8>>),
}

/// One class of a [`Simple`] pattern and how often it repeats.
struct Item {
    /// ASCII characters, as bits: the class, or what it excludes.
    set: u128,
    /// Whether the class is every character but those of `set` (`[^…]`,
    /// `.`, `\S`), characters outside ASCII included.
    negated: bool,
    min: u32,
    max: u32,
}

impl Item {
    fn has(&self, c: char) -> bool {
        let listed = u32::from(c) < 128 && self.set & (1u128 << u32::from(c)) != 0;
        listed != self.negated
    }

    /// Whether no character is in both classes.
    fn disjoint(&self, other: &Item) -> bool {
        match (self.negated, other.negated) {
            (false, false) => self.set & other.set == 0,
            (true, false) => other.set & !self.set == 0,
            (false, true) => self.set & !other.set == 0,
            (true, true) => false,
        }
    }
}

impl Simple {
    /// The largest count accepted in `{m,n}` (larger are left to the regex
    /// engine, which has size limits).
    const MAX_COUNT: u32 = 4096;

    fn parse(source: &str) -> Option<Simple> {
        let (start, body) = match source.strip_prefix('^') {
            Some(body) => (true, body),
            None => (false, source),
        };
        // An escaped `$` at the end is left to the regex engine.
        if body.ends_with("\\$") {
            return None;
        }
        let (end, body) = match body.strip_suffix('$') {
            Some(body) => (true, body),
            None => (false, body),
        };
        let bytes = body.as_bytes();
        if let Some(inner) = bytes.strip_prefix(b"(").and_then(|b| b.strip_suffix(b")"))
            && inner.contains(&b'|')
        {
            let texts = inner
                .split(|b| *b == b'|')
                .map(Self::literals)
                .collect::<Option<Vec<_>>>()?;
            return Some(Simple {
                shape: Shape::OneOf(texts),
                start,
                end,
            });
        }
        let mut items: Vec<Item> = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'(' {
                // A group of plain characters, once.
                let close = i + bytes.get(i..)?.iter().position(|&b| b == b')')?;
                let text = Self::literals(bytes.get(i + 1..close)?)?;
                items.extend(text.into_iter().map(|b| Item {
                    set: 1u128 << b,
                    negated: false,
                    min: 1,
                    max: 1,
                }));
                i = close + 1;
                if matches!(bytes.get(i), Some(b'?' | b'+' | b'*' | b'{')) {
                    return None;
                }
                continue;
            }
            let ((set, negated), next) = match bytes[i] {
                b'[' => Self::class(bytes, i + 1)?,
                b'\\' => (Self::escape(*bytes.get(i + 1)?)?, i + 2),
                // Any character but a line feed.
                b'.' => ((1u128 << b'\n', true), i + 1),
                b if Self::is_literal(b) => ((1u128 << b, false), i + 1),
                _ => return None,
            };
            let (min, max, next) = Self::quantifier(bytes, next)?;
            items.push(Item {
                set,
                negated,
                min,
                max,
            });
            i = next;
        }
        for pair in items.windows(2) {
            if let [a, b] = pair
                && a.min != a.max
                && (b.min == 0 || !a.disjoint(b))
            {
                return None;
            }
        }
        // Not anchored at the start, the match is tried at each character:
        // classes of fixed counts, or a single class not anchored at the end
        // either (it stops at its first match), keep that linear in the
        // text.
        if !start && items.iter().any(|item| item.min != item.max) && (items.len() > 1 || end) {
            return None;
        }
        Some(Simple {
            shape: Shape::Sequence(items),
            start,
            end,
        })
    }

    /// The text of a run of plain characters (escaped punctuation
    /// included); `None` when it holds anything else.
    fn literals(bytes: &[u8]) -> Option<Vec<u8>> {
        let mut out = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while let Some(&b) = bytes.get(i) {
            if b == b'\\' {
                let e = *bytes.get(i + 1)?;
                if e.is_ascii_alphanumeric() || Self::escape(e).is_none() {
                    return None;
                }
                out.push(e);
                i += 2;
            } else if Self::is_literal(b) {
                out.push(b);
                i += 1;
            } else {
                return None;
            }
        }
        Some(out)
    }

    /// A character that stands for itself outside a class.
    fn is_literal(b: u8) -> bool {
        b.is_ascii_alphanumeric() || b" !\"#%&',-/:;<=>@_`~".contains(&b)
    }

    /// The class of an escape (`\d`, `\w`, `\s`, their negations, or an
    /// escaped punctuation mark), and whether it is negated.
    fn escape(b: u8) -> Option<(u128, bool)> {
        let digits = Self::range(b'0', b'9');
        let word = digits | Self::range(b'a', b'z') | Self::range(b'A', b'Z') | 1 << b'_';
        let space = [b'\t', b'\n', 0x0b, 0x0c, b'\r', b' ']
            .iter()
            .fold(0u128, |set, b| set | 1u128 << b);
        match b {
            b'd' => Some((digits, false)),
            b'w' => Some((word, false)),
            b's' => Some((space, false)),
            b'D' => Some((digits, true)),
            b'W' => Some((word, true)),
            b'S' => Some((space, true)),
            b if b"-./:_*+?$^()[]{}|\\@#=,!&~%'\";`".contains(&b) => Some((1u128 << b, false)),
            _ => None,
        }
    }

    fn range(from: u8, to: u8) -> u128 {
        (from..=to).fold(0, |set, b| set | 1u128 << b)
    }

    /// The class that starts after `[` at `i` (`[^…]` negated), and where
    /// it ends.
    fn class(bytes: &[u8], mut i: usize) -> Option<((u128, bool), usize)> {
        let negated = bytes.get(i) == Some(&b'^');
        if negated {
            i += 1;
        }
        let start = i;
        let mut set = 0u128;
        loop {
            let b = *bytes.get(i)?;
            match b {
                b']' if i > start => return Some(((set, negated), i + 1)),
                b'\\' => {
                    // Negated escapes inside a class are left to the regex
                    // engine.
                    let (class, negated_escape) = Self::escape(*bytes.get(i + 1)?)?;
                    if negated_escape {
                        return None;
                    }
                    set |= class;
                    i += 2;
                }
                // A dash first or last is itself.
                b'-' if i == start || bytes.get(i + 1) == Some(&b']') => {
                    set |= 1 << b'-';
                    i += 1;
                }
                b if b.is_ascii_alphanumeric() => {
                    if bytes.get(i + 1) == Some(&b'-')
                        && let Some(&to) = bytes.get(i + 2)
                        && to.is_ascii_alphanumeric()
                    {
                        if to < b {
                            return None;
                        }
                        set |= Self::range(b, to);
                        i += 3;
                        // A dash right after a range is itself.
                        if bytes.get(i) == Some(&b'-') {
                            set |= 1 << b'-';
                            i += 1;
                        }
                    } else {
                        set |= 1 << b;
                        i += 1;
                    }
                }
                // Set operations, nested classes and the like are left to
                // the regex engine.
                b'[' | b']' | b'^' | b'-' | b'&' | b'~' => return None,
                b if b.is_ascii_graphic() || b == b' ' => {
                    set |= 1 << b;
                    i += 1;
                }
                _ => return None,
            }
        }
    }

    /// The quantifier at `i` (none: once), and where it ends.
    fn quantifier(bytes: &[u8], i: usize) -> Option<(u32, u32, usize)> {
        let (min, max, next) = match bytes.get(i) {
            Some(b'*') => (0, u32::MAX, i + 1),
            Some(b'+') => (1, u32::MAX, i + 1),
            Some(b'?') => (0, 1, i + 1),
            Some(b'{') => {
                let close = i + bytes.get(i..)?.iter().position(|&b| b == b'}')?;
                let inner = std::str::from_utf8(bytes.get(i + 1..close)?).ok()?;
                let count = |t: &str| -> Option<u32> {
                    if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) {
                        return None;
                    }
                    t.parse().ok().filter(|n| *n <= Self::MAX_COUNT)
                };
                let (min, max) = match inner.split_once(',') {
                    None => {
                        let n = count(inner)?;
                        (n, n)
                    }
                    Some((min, "")) => (count(min)?, u32::MAX),
                    Some((min, max)) => (count(min)?, count(max)?),
                };
                if min > max {
                    return None;
                }
                (min, max, close + 1)
            }
            _ => (1, 1, i),
        };
        // Lazy or possessive forms are left to the regex engine.
        if matches!(bytes.get(next), Some(b'?' | b'+' | b'*' | b'{')) {
            return None;
        }
        Some((min, max, next))
    }

    /// Whether `text` matches (anywhere, unless anchored).
    fn is_match(&self, text: &str) -> bool {
        let at = |from: usize| {
            let rest = text.get(from..).unwrap_or("");
            match self.run(rest) {
                Some(len) => !self.end || from + len == text.len(),
                None => false,
            }
        };
        if self.start {
            return at(0);
        }
        text.char_indices()
            .map(|(i, _)| i)
            .chain(std::iter::once(text.len()))
            .any(at)
    }

    /// How long the match at the start of `text` is (the only one the
    /// greedy run can make); `None` when there is none there.
    fn run(&self, text: &str) -> Option<usize> {
        match &self.shape {
            Shape::OneOf(texts) => {
                // The longest first: a match that must end at the end
                // of the text may need it.
                let bytes = text.as_bytes();
                texts
                    .iter()
                    .filter(|t| bytes.starts_with(t))
                    .filter(|t| !self.end || t.len() == bytes.len())
                    .map(Vec::len)
                    .max()
            }
            Shape::Sequence(items) => {
                let mut chars = text.char_indices().peekable();
                for item in items {
                    let mut n = 0u32;
                    while n < item.max
                        && let Some(&(_, c)) = chars.peek()
                        && item.has(c)
                    {
                        chars.next();
                        n += 1;
                    }
                    if n < item.min {
                        return None;
                    }
                }
                Some(chars.peek().map_or(text.len(), |(i, _)| *i))
            }
        }
    }
}

/// A `pattern` keyword: its source, compiled on first use.
struct Pattern {
    source: Str,
    compiled: OnceLock<Option<&'static Matcher>>,
}

impl Pattern {
    fn new(source: Str) -> Self {
        Pattern {
            source,
            compiled: OnceLock::new(),
        }
    }

    /// Whether `text` matches; `None` when the pattern is not supported.
    fn matches(&self, text: &str) -> Option<bool> {
        self.compiled
            .get_or_init(|| compile_pattern(&self.source))
            .map(|re| re.is_match(text))
    }
}

// ---------------------------------------------------------------------------
// Reading the data as written by the generator straight into the compiled
// form: no intermediate JSON tree, each keyword lands in its field, and the
// strings are borrowed from the generated text (owned only when they hold
// escapes).

/// A string of the data: borrowed from the generated text unless it holds
/// an escape.
type Str = Cow<'static, str>;

/// A string read from the data (see [`Str`]).
struct Text(Str);

impl<'de: 'static> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de: 'static> Visitor<'de> for V {
            type Value = Text;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> std::result::Result<Text, E> {
                Ok(Text(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> std::result::Result<Text, E> {
                Ok(Text(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E>(self, v: String) -> std::result::Result<Text, E> {
                Ok(Text(Cow::Owned(v)))
            }
        }
        d.deserialize_str(V)
    }
}

/// A JSON value of the data with its strings borrowed (see [`Str`]): what
/// the small keywords (`enum`, `required`, `type`, bounds, …) are read as.
enum Raw {
    Null,
    Bool(bool),
    Number(serde_json::Number),
    String(Str),
    Array(Vec<Raw>),
    /// Members in the order written.
    Object(Vec<(Str, Raw)>),
}

impl<'de: 'static> Deserialize<'de> for Raw {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de: 'static> Visitor<'de> for V {
            type Value = Raw;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON value")
            }
            fn visit_bool<E>(self, v: bool) -> std::result::Result<Raw, E> {
                Ok(Raw::Bool(v))
            }
            fn visit_i64<E>(self, v: i64) -> std::result::Result<Raw, E> {
                Ok(Raw::Number(v.into()))
            }
            fn visit_u64<E>(self, v: u64) -> std::result::Result<Raw, E> {
                Ok(Raw::Number(v.into()))
            }
            fn visit_f64<E>(self, v: f64) -> std::result::Result<Raw, E> {
                // As `serde_json::Value` reads it.
                Ok(serde_json::Number::from_f64(v).map_or(Raw::Null, Raw::Number))
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> std::result::Result<Raw, E> {
                Ok(Raw::String(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> std::result::Result<Raw, E> {
                Ok(Raw::String(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E>(self, v: String) -> std::result::Result<Raw, E> {
                Ok(Raw::String(Cow::Owned(v)))
            }
            fn visit_unit<E>(self) -> std::result::Result<Raw, E> {
                Ok(Raw::Null)
            }
            fn visit_none<E>(self) -> std::result::Result<Raw, E> {
                Ok(Raw::Null)
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> std::result::Result<Raw, D::Error> {
                Raw::deserialize(d)
            }
            fn visit_seq<A: SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> std::result::Result<Raw, A::Error> {
                let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0));
                while let Some(item) = seq.next_element::<Raw>()? {
                    out.push(item);
                }
                Ok(Raw::Array(out))
            }
            fn visit_map<A: MapAccess<'de>>(
                self,
                mut map: A,
            ) -> std::result::Result<Raw, A::Error> {
                let mut out = Vec::new();
                while let Some((Text(k), v)) = map.next_entry::<Text, Raw>()? {
                    out.push((k, v));
                }
                Ok(Raw::Object(out))
            }
        }
        d.deserialize_any(V)
    }
}

impl Raw {
    /// The value as `serde_json` would have read it (for messages).
    fn to_json(&self) -> Json {
        match self {
            Raw::Null => Json::Null,
            Raw::Bool(b) => Json::Bool(*b),
            Raw::Number(n) => Json::Number(n.clone()),
            Raw::String(s) => Json::String(s.to_string()),
            Raw::Array(items) => Json::Array(items.iter().map(Raw::to_json).collect()),
            Raw::Object(members) => {
                let mut map = Map::new();
                for (k, v) in members {
                    map.insert(k.to_string(), v.to_json());
                }
                Json::Object(map)
            }
        }
    }

    fn as_u64(&self) -> Option<u64> {
        match self {
            Raw::Number(n) => n.as_u64(),
            _ => None,
        }
    }

    fn as_f64(&self) -> Option<f64> {
        match self {
            Raw::Number(n) => n.as_f64(),
            _ => None,
        }
    }
}

/// The keywords of a schema object (others are ignored).
enum Keyword {
    Ref,
    Unsupported,
    Type,
    Enum,
    EnumCaseInsensitive,
    Const,
    Pattern,
    Format,
    MinLength,
    MaxLength,
    Minimum,
    Maximum,
    ExclusiveMinimum,
    ExclusiveMaximum,
    MultipleOf,
    MinItems,
    MaxItems,
    Items,
    Contains,
    Properties,
    Required,
    PatternProperties,
    AdditionalProperties,
    MinProperties,
    MaxProperties,
    DependentRequired,
    DependentExcluded,
    RequiredXor,
    RequiredOr,
    AllOf,
    AnyOf,
    OneOf,
    Not,
    If,
    Then,
    Else,
    Definitions,
    Other,
}

impl<'de> Deserialize<'de> for Keyword {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Keyword;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a schema keyword")
            }
            fn visit_str<E>(self, k: &str) -> std::result::Result<Keyword, E> {
                Ok(match k {
                    "$ref" => Keyword::Ref,
                    "!unsupported" => Keyword::Unsupported,
                    "type" => Keyword::Type,
                    "enum" => Keyword::Enum,
                    "enumCaseInsensitive" => Keyword::EnumCaseInsensitive,
                    "const" => Keyword::Const,
                    "pattern" => Keyword::Pattern,
                    "format" => Keyword::Format,
                    "minLength" => Keyword::MinLength,
                    "maxLength" => Keyword::MaxLength,
                    "minimum" => Keyword::Minimum,
                    "maximum" => Keyword::Maximum,
                    "exclusiveMinimum" => Keyword::ExclusiveMinimum,
                    "exclusiveMaximum" => Keyword::ExclusiveMaximum,
                    "multipleOf" => Keyword::MultipleOf,
                    "minItems" => Keyword::MinItems,
                    "maxItems" => Keyword::MaxItems,
                    "items" => Keyword::Items,
                    "contains" => Keyword::Contains,
                    "properties" => Keyword::Properties,
                    "required" => Keyword::Required,
                    "patternProperties" => Keyword::PatternProperties,
                    "additionalProperties" => Keyword::AdditionalProperties,
                    "minProperties" => Keyword::MinProperties,
                    "maxProperties" => Keyword::MaxProperties,
                    "dependentRequired" => Keyword::DependentRequired,
                    "dependentExcluded" => Keyword::DependentExcluded,
                    "requiredXor" => Keyword::RequiredXor,
                    "requiredOr" => Keyword::RequiredOr,
                    "allOf" => Keyword::AllOf,
                    "anyOf" => Keyword::AnyOf,
                    "oneOf" => Keyword::OneOf,
                    "not" => Keyword::Not,
                    "if" => Keyword::If,
                    "then" => Keyword::Then,
                    "else" => Keyword::Else,
                    "definitions" => Keyword::Definitions,
                    _ => Keyword::Other,
                })
            }
        }
        d.deserialize_identifier(V)
    }
}

/// The JSON-schema type names, in the order of their codes in [`Types`].
const TYPE_NAMES: [&str; 7] = [
    "string", "integer", "number", "boolean", "array", "object", "null",
];

/// A `type` keyword: its names in the order written, packed as codes of
/// three bits (`1 + index in TYPE_NAMES`, 0 ends the list); 0: no check
/// (absent, empty, not a name or a list of names, or naming a type the
/// validator does not know, which every value has).
#[derive(Clone, Copy, Default)]
struct Types(u64);

impl Types {
    /// The most names kept (more would repeat one: there are 7).
    const SLOTS: u32 = 21;

    fn from_raw(v: &Raw) -> Types {
        let names: &[Raw] = match v {
            Raw::String(_) => std::slice::from_ref(v),
            Raw::Array(items) => items,
            _ => return Types(0),
        };
        let mut packed = 0u64;
        let mut slot = 0;
        for name in names {
            let Raw::String(name) = name else {
                continue;
            };
            let Some(code) = TYPE_NAMES.iter().position(|t| *t == name.as_ref()) else {
                return Types(0);
            };
            if slot < Self::SLOTS {
                packed |= (code as u64 + 1) << (3 * slot);
                slot += 1;
            }
        }
        Types(packed)
    }

    fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The codes, in order (see [`has_type`]).
    fn codes(self) -> impl Iterator<Item = u64> {
        (0..Self::SLOTS)
            .map(move |slot| (self.0 >> (3 * slot)) & 7)
            .take_while(|code| *code != 0)
    }

    fn names(self) -> impl Iterator<Item = &'static str> {
        self.codes()
            .filter_map(|code| TYPE_NAMES.get(code as usize - 1).copied())
    }
}

/// What is being built while one part of a type's data is read (the
/// type's schema without its definitions and properties, one definition,
/// one property of the type's schema, or one extension rule's schema).
struct Builder<'d> {
    /// Which part (see [`Compiled`]).
    part: Id,
    schemas: Vec<Schema>,
    /// The definitions of the type's schema, sorted by name: the targets
    /// of `$ref`.
    definitions: &'d [Lazy],
    /// Whether the type's schema has a `properties` object (its entries
    /// are compiled one by one, on first use, as parts of their own).
    root_properties: bool,
}

impl<'d> Builder<'d> {
    /// A builder for part `part`, with room for `capacity` schemas.
    fn new(part: Id, capacity: usize, definitions: &'d [Lazy]) -> Self {
        Builder {
            part,
            schemas: Vec::with_capacity(capacity),
            definitions,
            root_properties: false,
        }
    }

    /// Where `$ref` `name` leads (`#/definitions/<name>` of the type's
    /// schema; others cannot be followed).
    fn resolve(&self, name: &str) -> Ref {
        name.strip_prefix("#/definitions/")
            .and_then(|n| {
                self.definitions
                    .binary_search_by(|d| d.name.as_ref().cmp(n))
                    .ok()
            })
            .and_then(|i| Id::try_from(i).ok())
            .map_or(Ref::Unresolved, Ref::Definition)
    }

    /// The id the next schema pushed gets.
    fn next_id(&self) -> Id {
        id_of(self.part, self.schemas.len())
    }

    fn push(&mut self, schema: Schema) -> Id {
        let id = self.next_id();
        self.schemas.push(schema);
        id
    }

    /// A schema of this part, by id.
    fn get(&self, id: Id) -> Option<&Schema> {
        (id >> PART_SHIFT == self.part)
            .then(|| self.schemas.get((id & LOCAL_MASK) as usize))
            .flatten()
    }

    /// The schemas read (the room reserved returned when much of it is
    /// left).
    fn finish(mut self) -> Vec<Schema> {
        if self.schemas.capacity() - self.schemas.len() > self.schemas.len() / 4 {
            self.schemas.shrink_to_fit();
        }
        self.schemas
    }
}

/// How many schemas the text of a part holds, about (objects and
/// booleans; a little more, as some objects are no schemas), to reserve
/// room for them at once.
fn schema_count(text: &str) -> usize {
    let bytes = text.as_bytes();
    bytes.iter().filter(|&&b| b == b'{').count()
        + bytes
            .windows(2)
            .filter(|w| w[0] == b':' && matches!(w[1], b't' | b'f'))
            .count()
        + 1
}

/// Ids are `part << PART_SHIFT | index in the part`.
const PART_SHIFT: u32 = 18;
const LOCAL_MASK: Id = (1 << PART_SHIFT) - 1;

/// The id of schema `index` of part `part` (`Id::MAX`, which is no schema,
/// past the limits).
fn id_of(part: Id, index: usize) -> Id {
    match Id::try_from(index) {
        Ok(i) if i <= LOCAL_MASK && part < (1 << (32 - PART_SHIFT)) => part << PART_SHIFT | i,
        _ => Id::MAX,
    }
}

/// Reads one schema into the builder, returning its id. `is_root`: the
/// type's own schema, whose `definitions` are the targets of `$ref` and
/// whose `properties` are compiled one by one on first use.
struct SchemaSeed<'b, 'd> {
    b: &'b mut Builder<'d>,
    is_root: bool,
}

/// What a schema value turned out to be, before it is stored.
enum Read {
    Schema(Schema),
    /// Not an object or a boolean.
    Other,
}

impl<'de: 'static> DeserializeSeed<'de> for SchemaSeed<'_, '_> {
    type Value = (Id, bool);

    /// The id, and whether the value was an object or a boolean.
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> std::result::Result<(Id, bool), D::Error> {
        let is_root = self.is_root;
        let b = self.b;
        let read = d.deserialize_any(SchemaVisitor {
            b: &mut *b,
            is_root,
        })?;
        Ok(match read {
            Read::Schema(s) => (b.push(s), true),
            Read::Other => (b.push(Schema::Accept), false),
        })
    }
}

struct SchemaVisitor<'b, 'd> {
    b: &'b mut Builder<'d>,
    is_root: bool,
}

impl SchemaVisitor<'_, '_> {
    fn sub<'de: 'static, A: MapAccess<'de>>(
        &mut self,
        map: &mut A,
    ) -> std::result::Result<Id, A::Error> {
        map.next_value_seed(SchemaSeed {
            b: &mut *self.b,
            is_root: false,
        })
        .map(|(id, _)| id)
    }
}

impl<'de: 'static> Visitor<'de> for SchemaVisitor<'_, '_> {
    type Value = Read;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a schema")
    }
    fn visit_bool<E>(self, v: bool) -> std::result::Result<Read, E> {
        Ok(Read::Schema(if v { Schema::Accept } else { Schema::False }))
    }
    fn visit_str<E>(self, _: &str) -> std::result::Result<Read, E> {
        Ok(Read::Other)
    }
    fn visit_i64<E>(self, _: i64) -> std::result::Result<Read, E> {
        Ok(Read::Other)
    }
    fn visit_u64<E>(self, _: u64) -> std::result::Result<Read, E> {
        Ok(Read::Other)
    }
    fn visit_f64<E>(self, _: f64) -> std::result::Result<Read, E> {
        Ok(Read::Other)
    }
    fn visit_unit<E>(self) -> std::result::Result<Read, E> {
        Ok(Read::Other)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<Read, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Read::Other)
    }

    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> std::result::Result<Read, A::Error> {
        let mut node = Node::default();
        let mut reference: Option<Str> = None;
        let mut scalar = ScalarKeywords::default();
        let mut bounds = Bounds::default();
        let mut values = ScalarValues::default();
        let mut more = MoreObjectKeywords::default();
        let mut enum_values: Option<Raw> = None;
        let mut case_insensitive = false;
        let mut list = ListKeywords::default();
        let mut object = ObjectKeywords::default();
        let mut comb = Combinations::default();
        let mut has_comb = false;
        while let Some(k) = map.next_key::<Keyword>()? {
            match k {
                Keyword::Ref => {
                    // A `$ref` that is not a string is no reference at all.
                    if let Raw::String(r) = map.next_value::<Raw>()? {
                        reference = Some(r);
                    }
                }
                Keyword::Unsupported => {
                    map.next_value::<IgnoredAny>()?;
                    node.unsupported = true;
                }
                Keyword::Type => node.types = Types::from_raw(&map.next_value::<Raw>()?),
                Keyword::Enum => enum_values = Some(map.next_value()?),
                Keyword::EnumCaseInsensitive => {
                    case_insensitive = matches!(map.next_value::<Raw>()?, Raw::Bool(true));
                }
                Keyword::Const => values.const_value = Some(map.next_value::<Raw>()?.to_json()),
                Keyword::Pattern => {
                    scalar.pattern = match map.next_value::<Raw>()? {
                        Raw::String(p) => Some(Pattern::new(p)),
                        _ => None,
                    };
                }
                Keyword::Format => {
                    scalar.format = match map.next_value::<Raw>()? {
                        Raw::String(f) => Some(f),
                        _ => None,
                    };
                }
                Keyword::MinLength => scalar.min_length = map.next_value::<Raw>()?.as_u64(),
                Keyword::MaxLength => scalar.max_length = map.next_value::<Raw>()?.as_u64(),
                Keyword::Minimum => bounds.minimum = map.next_value::<Raw>()?.as_f64(),
                Keyword::Maximum => bounds.maximum = map.next_value::<Raw>()?.as_f64(),
                Keyword::ExclusiveMinimum => {
                    bounds.exclusive_minimum = map.next_value::<Raw>()?.as_f64();
                }
                Keyword::ExclusiveMaximum => {
                    bounds.exclusive_maximum = map.next_value::<Raw>()?.as_f64();
                }
                Keyword::MultipleOf => bounds.multiple_of = map.next_value::<Raw>()?.as_f64(),
                Keyword::MinItems => list.min_items = map.next_value::<Raw>()?.as_u64(),
                Keyword::MaxItems => list.max_items = map.next_value::<Raw>()?.as_u64(),
                Keyword::Items => {
                    let (id, is_schema) = map.next_value_seed(SchemaSeed {
                        b: &mut *self.b,
                        is_root: false,
                    })?;
                    list.items = is_schema.then_some(id);
                }
                Keyword::Contains => list.contains = Some(self.sub(&mut map)?),
                Keyword::Properties => {
                    if self.is_root {
                        // Compiled one by one when a resource first sets
                        // them (see `Compiled::parse`).
                        map.next_value::<IgnoredAny>()?;
                        object.properties = if self.b.root_properties {
                            Properties::Root
                        } else {
                            Properties::Absent
                        };
                    } else {
                        object.properties = map
                            .next_value_seed(SchemaMapSeed { b: &mut *self.b })?
                            .map_or(Properties::Absent, Properties::Listed);
                    }
                }
                Keyword::Required => object.required = string_list(map.next_value()?),
                Keyword::PatternProperties => {
                    object.pattern_properties = map
                        .next_value_seed(SchemaMapSeed { b: &mut *self.b })?
                        .unwrap_or_default()
                        .into_iter()
                        .map(|(p, id)| (Pattern::new(p), id))
                        .collect();
                }
                Keyword::AdditionalProperties => {
                    let (id, _) = map.next_value_seed(SchemaSeed {
                        b: &mut *self.b,
                        is_root: false,
                    })?;
                    object.additional = match self.b.get(id) {
                        Some(Schema::False) => Additional::Forbidden,
                        Some(Schema::Node(_)) => Additional::Schema(id),
                        _ => Additional::Any,
                    };
                }
                Keyword::MinProperties => more.min_properties = map.next_value::<Raw>()?.as_u64(),
                Keyword::MaxProperties => more.max_properties = map.next_value::<Raw>()?.as_u64(),
                Keyword::DependentRequired => {
                    more.dependent_required = name_lists(map.next_value()?);
                }
                Keyword::DependentExcluded => {
                    more.dependent_excluded = name_lists(map.next_value()?);
                }
                Keyword::RequiredXor => more.required_xor = string_list(map.next_value()?),
                Keyword::RequiredOr => more.required_or = string_list(map.next_value()?),
                Keyword::AllOf => {
                    has_comb = true;
                    comb.all_of = map
                        .next_value_seed(SchemaListSeed { b: &mut *self.b })?
                        .unwrap_or_default();
                }
                Keyword::AnyOf => {
                    has_comb = true;
                    comb.any_of = map.next_value_seed(SchemaListSeed { b: &mut *self.b })?;
                }
                Keyword::OneOf => {
                    has_comb = true;
                    comb.one_of = map.next_value_seed(SchemaListSeed { b: &mut *self.b })?;
                }
                Keyword::Not => {
                    has_comb = true;
                    comb.not = Some(self.sub(&mut map)?);
                }
                Keyword::If => {
                    has_comb = true;
                    comb.if_ = Some(self.sub(&mut map)?);
                }
                Keyword::Then => comb.then = Some(self.sub(&mut map)?),
                Keyword::Else => comb.else_ = Some(self.sub(&mut map)?),
                Keyword::Definitions => {
                    if self.is_root {
                        // Compiled one by one when a `$ref` first reaches
                        // them (see `Compiled::parse`).
                        map.next_value::<IgnoredAny>()?;
                    } else {
                        // Definitions below the root are no `$ref`
                        // targets; read (and checked) as before.
                        map.next_value_seed(SchemaMapSeed { b: &mut *self.b })?;
                    }
                }
                Keyword::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        match enum_values {
            Some(Raw::Array(items)) => {
                scalar.enum_values = Some(Box::new(EnumValues::new(items, case_insensitive)));
            }
            other => values.enum_other = other.as_ref().map(Raw::to_json),
        }
        let has_bounds = bounds.minimum.is_some()
            || bounds.maximum.is_some()
            || bounds.exclusive_minimum.is_some()
            || bounds.exclusive_maximum.is_some()
            || bounds.multiple_of.is_some();
        scalar.bounds = has_bounds.then(|| Box::new(bounds));
        let has_values = values.enum_other.is_some() || values.const_value.is_some();
        scalar.values = has_values.then(|| Box::new(values));
        let has_scalar = scalar.enum_values.is_some()
            || scalar.values.is_some()
            || scalar.pattern.is_some()
            || scalar.format.is_some()
            || scalar.min_length.is_some()
            || scalar.max_length.is_some()
            || scalar.bounds.is_some();
        let has_list = list.min_items.is_some()
            || list.max_items.is_some()
            || list.items.is_some()
            || list.contains.is_some();
        if self.is_root && self.b.root_properties {
            object.properties = Properties::Root;
        }
        let has_more = more.min_properties.is_some()
            || more.max_properties.is_some()
            || !more.dependent_required.is_empty()
            || !more.dependent_excluded.is_empty()
            || more.required_xor.is_some()
            || more.required_or.is_some();
        object.more = has_more.then(|| Box::new(more));
        let has_object = !matches!(object.properties, Properties::Absent)
            || object.required.is_some()
            || !object.pattern_properties.is_empty()
            || !matches!(object.additional, Additional::Any)
            || object.more.is_some();
        node.scalar = has_scalar.then(|| Box::new(scalar));
        node.list = has_list.then(|| Box::new(list));
        node.object = has_object.then(|| Box::new(object));
        node.combinations = has_comb.then(|| Box::new(comb));
        if let Some(r) = reference {
            node.reference = Some(self.b.resolve(&r));
        }
        Ok(Read::Schema(Schema::Node(node)))
    }
}

/// `{name: schema, …}` (`properties`, `patternProperties`, `definitions`),
/// sorted by name; `None` when the value is not an object.
struct SchemaMapSeed<'b, 'd> {
    b: &'b mut Builder<'d>,
}

impl<'de: 'static> DeserializeSeed<'de> for SchemaMapSeed<'_, '_> {
    type Value = Option<Vec<(Str, Id)>>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> std::result::Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de: 'static> Visitor<'de> for SchemaMapSeed<'_, '_> {
    type Value = Option<Vec<(Str, Id)>>;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an object of schemas")
    }
    fn visit_map<A: MapAccess<'de>>(
        self,
        mut map: A,
    ) -> std::result::Result<Self::Value, A::Error> {
        let mut out: Vec<(Str, Id)> = Vec::new();
        while let Some(Text(name)) = map.next_key::<Text>()? {
            let (id, _) = map.next_value_seed(SchemaSeed {
                b: &mut *self.b,
                is_root: false,
            })?;
            out.push((name, id));
        }
        Ok(Some(json_object_order(out)))
    }
    fn visit_seq<A: SeqAccess<'de>>(
        self,
        mut seq: A,
    ) -> std::result::Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(None)
    }
    fn visit_bool<E>(self, _: bool) -> std::result::Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_str<E>(self, _: &str) -> std::result::Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_i64<E>(self, _: i64) -> std::result::Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_u64<E>(self, _: u64) -> std::result::Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_f64<E>(self, _: f64) -> std::result::Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_unit<E>(self) -> std::result::Result<Self::Value, E> {
        Ok(None)
    }
}

/// Members as a JSON object would hold them: sorted by name, the last of
/// a name wins.
fn json_object_order<T>(mut members: Vec<(Str, T)>) -> Vec<(Str, T)> {
    members.reverse();
    members.sort_by(|a, b| a.0.cmp(&b.0));
    members.dedup_by(|later, earlier| later.0 == earlier.0);
    members
}

/// `[schema, …]` (`allOf`, `anyOf`, `oneOf`); `None` when the value is not
/// a list.
struct SchemaListSeed<'b, 'd> {
    b: &'b mut Builder<'d>,
}

impl<'de: 'static> DeserializeSeed<'de> for SchemaListSeed<'_, '_> {
    type Value = Option<Vec<Id>>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> std::result::Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de: 'static> Visitor<'de> for SchemaListSeed<'_, '_> {
    type Value = Option<Vec<Id>>;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a list of schemas")
    }
    fn visit_seq<A: SeqAccess<'de>>(
        self,
        mut seq: A,
    ) -> std::result::Result<Self::Value, A::Error> {
        let mut out = Vec::new();
        while let Some((id, _)) = seq.next_element_seed(SchemaSeed {
            b: &mut *self.b,
            is_root: false,
        })? {
            out.push(id);
        }
        Ok(Some(out))
    }
    fn visit_map<A: MapAccess<'de>>(
        self,
        mut map: A,
    ) -> std::result::Result<Self::Value, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(None)
    }
    fn visit_bool<E>(self, _: bool) -> std::result::Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_str<E>(self, _: &str) -> std::result::Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_i64<E>(self, _: i64) -> std::result::Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_u64<E>(self, _: u64) -> std::result::Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_f64<E>(self, _: f64) -> std::result::Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_unit<E>(self) -> std::result::Result<Self::Value, E> {
        Ok(None)
    }
}

// ---------------------------------------------------------------------------
// The compiled form: one arena of schemas per part of a type's data,
// keywords as fields, `$ref` as an index, allowed values sorted for binary
// search.

/// A schema of the arena, by index.
type Id = u32;

/// No schema: what a part that does not compile leads to (every value is
/// allowed, as for a type whose data does not compile).
const NO_SCHEMA: Id = Id::MAX;

enum Schema {
    /// `false`: no value is allowed.
    False,
    /// `true` or a non-object: every value is allowed.
    Accept,
    Node(Node),
}

/// Where a `$ref` leads.
#[derive(Clone, Copy)]
enum Ref {
    /// The definition with this index (in `Compiled::definitions`).
    Definition(Id),
    /// A reference the validator cannot follow.
    Unresolved,
}

/// A schema object; its keyword groups are boxed, and absent (no
/// allocation) when the schema has none of their keywords.
#[derive(Default)]
struct Node {
    reference: Option<Ref>,
    unsupported: bool,
    types: Types,
    scalar: Option<Box<ScalarKeywords>>,
    list: Option<Box<ListKeywords>>,
    object: Option<Box<ObjectKeywords>>,
    combinations: Option<Box<Combinations>>,
}

/// Keywords checked on scalars.
#[derive(Default)]
struct ScalarKeywords {
    enum_values: Option<Box<EnumValues>>,
    pattern: Option<Pattern>,
    format: Option<Str>,
    min_length: Option<u64>,
    max_length: Option<u64>,
    /// `minimum`, `maximum`, … (`None`: none of them).
    bounds: Option<Box<Bounds>>,
    /// `const` and a non-list `enum` (`None`: neither).
    values: Option<Box<ScalarValues>>,
}

/// The numeric bounds of a scalar schema.
#[derive(Default)]
struct Bounds {
    minimum: Option<f64>,
    maximum: Option<f64>,
    exclusive_minimum: Option<f64>,
    exclusive_maximum: Option<f64>,
    multiple_of: Option<f64>,
}

/// The rarer value keywords of a scalar schema.
#[derive(Default)]
struct ScalarValues {
    /// A non-list `enum`, kept only for messages.
    enum_other: Option<Json>,
    const_value: Option<Json>,
}

/// An `enum` list: the values as written (for messages and look-ups), and
/// the indices of the scalar ones sorted by their texts (lower-cased when
/// the match ignores case) for binary search.
struct EnumValues {
    values: Vec<Raw>,
    sorted: Vec<u32>,
    case_insensitive: bool,
}

impl EnumValues {
    fn new(values: Vec<Raw>, case_insensitive: bool) -> Self {
        let mut sorted: Vec<u32> = Vec::with_capacity(values.len());
        sorted.extend(
            (0..values.len())
                .filter(|i| {
                    matches!(
                        values.get(*i),
                        Some(Raw::String(_) | Raw::Number(_) | Raw::Bool(_))
                    )
                })
                .filter_map(|i| u32::try_from(i).ok()),
        );
        let text_of = |i: &u32| values.get(*i as usize);
        sorted.sort_unstable_by(|a, b| match (text_of(a), text_of(b)) {
            (Some(a), Some(b)) => with_text(a, |a| {
                with_text(b, |b| compare(a, b, case_insensitive)).unwrap_or(Ordering::Equal)
            })
            .unwrap_or(Ordering::Equal),
            _ => Ordering::Equal,
        });
        EnumValues {
            values,
            sorted,
            case_insensitive,
        }
    }

    fn allows(&self, text: &str) -> bool {
        self.sorted
            .binary_search_by(|i| {
                self.values
                    .get(*i as usize)
                    .and_then(|v| with_text(v, |v| compare(v, text, self.case_insensitive)))
                    .unwrap_or(Ordering::Less)
            })
            .is_ok()
    }

    /// The values as JSON, for messages.
    fn json(&self) -> Vec<Json> {
        self.values.iter().map(Raw::to_json).collect()
    }
}

/// Calls `f` with the text of a scalar value, as [`scalar_text`] gives it
/// for the same JSON (numbers written on the stack); `None` for others.
fn with_text<R>(v: &Raw, f: impl FnOnce(&str) -> R) -> Option<R> {
    match v {
        Raw::String(s) => Some(f(s)),
        Raw::Number(n) => Some(f(&NumberText::default().text(n))),
        Raw::Bool(b) => Some(f(if *b { "true" } else { "false" })),
        _ => None,
    }
}

/// Texts in byte order, of their lower-cased forms when `case_insensitive`.
fn compare(a: &str, b: &str, case_insensitive: bool) -> Ordering {
    if case_insensitive {
        a.bytes()
            .map(|c| c.to_ascii_lowercase())
            .cmp(b.bytes().map(|c| c.to_ascii_lowercase()))
    } else {
        a.cmp(b)
    }
}

/// Keywords checked on lists.
#[derive(Default)]
struct ListKeywords {
    min_items: Option<u64>,
    max_items: Option<u64>,
    items: Option<Id>,
    contains: Option<Id>,
}

/// A `properties` keyword.
#[derive(Default)]
enum Properties {
    /// Absent, or not an object.
    #[default]
    Absent,
    /// Its entries, sorted by name.
    Listed(Vec<(Str, Id)>),
    /// The type's own `properties`, compiled one by one on first use
    /// (`Compiled::properties`).
    Root,
}

/// Keywords checked on objects.
#[derive(Default)]
struct ObjectKeywords {
    properties: Properties,
    required: Option<Vec<Str>>,
    pattern_properties: Vec<(Pattern, Id)>,
    additional: Additional,
    /// The rarer keywords (`None`: none of them).
    more: Option<Box<MoreObjectKeywords>>,
}

/// The rarer keywords checked on objects.
#[derive(Default)]
struct MoreObjectKeywords {
    min_properties: Option<u64>,
    max_properties: Option<u64>,
    dependent_required: Vec<(Str, Vec<Str>)>,
    dependent_excluded: Vec<(Str, Vec<Str>)>,
    required_xor: Option<Vec<Str>>,
    required_or: Option<Vec<Str>>,
}

/// `additionalProperties`.
#[derive(Default)]
enum Additional {
    /// Absent, `true` or not a schema: anything goes.
    #[default]
    Any,
    /// `false`: unknown properties are errors.
    Forbidden,
    /// A schema every other property must match.
    Schema(Id),
}

/// `allOf`, `anyOf`, `oneOf`, `not`, `if`/`then`/`else`.
#[derive(Default)]
struct Combinations {
    all_of: Vec<Id>,
    any_of: Option<Vec<Id>>,
    one_of: Option<Vec<Id>>,
    not: Option<Id>,
    if_: Option<Id>,
    then: Option<Id>,
    else_: Option<Id>,
}

/// An extension rule of cfn-lint: a schema applied at a path, compiled
/// when the path first reaches a value.
struct Extension {
    rule: Str,
    at: Vec<Str>,
    schema: Lazy,
}

/// One type's validation data, compiled part by part: the type's schema
/// (without its definitions and properties) at once, each definition, each
/// property of the type's schema and each extension rule on first use (a
/// template uses few of a type's definitions and properties, and reaches
/// few of its extension rules).
///
/// Part 0 is the type's schema; part `1 + i` definition `i`, part
/// `1 + definitions + i` property `i`, and after them the extension rules.
struct Compiled {
    /// Part 0.
    schemas: Vec<Schema>,
    /// The type's schema (`None`: the data has none).
    root: Option<Id>,
    /// The definitions of the type's schema, sorted by name.
    definitions: Vec<Lazy>,
    /// The `properties` of the type's schema, sorted by name.
    properties: Vec<Lazy>,
    extensions: Vec<Extension>,
}

/// A part of a type's data: its text or its code, compiled (or decoded)
/// on first use.
struct Lazy {
    name: Str,
    source: Source,
    /// The part's schemas and the id of its schema; `None` when the text
    /// does not compile (then what leads to it allows every value).
    compiled: OnceLock<Option<(Vec<Schema>, Id)>>,
}

/// What a part is compiled from.
enum Source {
    /// Its JSON text in `validate_data.rs`.
    Text(&'static str),
    /// Its compiled form, encoded (see `validate/code.rs`).
    Code(&'static [u8]),
}

impl Lazy {
    fn new(name: Str, text: &'static str) -> Self {
        Lazy::with_source(name, Source::Text(text))
    }

    fn with_source(name: Str, source: Source) -> Self {
        Lazy {
            name,
            source,
            compiled: OnceLock::new(),
        }
    }
}

/// Where the parts of a type's data are in its text, found without
/// compiling them, in one pass over the text.
struct Layout {
    /// The members of the type's schema (`s`), in the order written, without
    /// `definitions` and `properties` (`None`: the data has no schema;
    /// `Some(None)`: it is no object).
    schema: Option<Option<Vec<(Str, &'static str)>>>,
    /// The text of the type's schema when it is no object.
    schema_text: &'static str,
    /// Its `definitions`, sorted by name.
    definitions: Vec<(Str, &'static str)>,
    /// Its `properties`, sorted by name (`None`: absent or not an object).
    properties: Option<Vec<(Str, &'static str)>>,
    /// The extension rules (`x`): rule, path, schema.
    extensions: Vec<(Str, Vec<Str>, &'static str)>,
}

impl Layout {
    /// `None` when the data is not JSON of the generator's shape.
    fn of(data: &'static str) -> Option<Layout> {
        let bytes = data.as_bytes();
        let mut layout = Layout {
            schema: None,
            schema_text: "",
            definitions: Vec::new(),
            properties: None,
            extensions: Vec::new(),
        };
        let start = skip_ws(bytes, 0);
        if bytes.get(start) != Some(&b'{') {
            return Some(layout);
        }
        object_members(data, start, &mut |key, at| {
            let end = match key.as_ref() {
                "s" => layout.read_schema(data, at)?,
                "x" => layout.read_extensions(data, at)?,
                _ => value_end(bytes, at)?,
            };
            Some(end)
        })?;
        Some(layout)
    }

    /// Reads the type's schema at `at`; returns where it ends.
    fn read_schema(&mut self, data: &'static str, at: usize) -> Option<usize> {
        let bytes = data.as_bytes();
        if bytes.get(at) != Some(&b'{') {
            let end = value_end(bytes, at)?;
            self.schema = Some(None);
            self.schema_text = data.get(at..end)?;
            return Some(end);
        }
        let (mut members, mut definitions, mut properties) = (Vec::new(), None, None);
        let end = object_members(data, at, &mut |key, at| {
            let is_object = bytes.get(at) == Some(&b'{');
            match key.as_ref() {
                "definitions" if is_object => {
                    let (defs, end) = member_texts(data, at)?;
                    definitions = Some(defs);
                    Some(end)
                }
                "definitions" => value_end(bytes, at),
                "properties" if is_object => {
                    let (props, end) = member_texts(data, at)?;
                    properties = Some(props);
                    Some(end)
                }
                _ => {
                    let end = value_end(bytes, at)?;
                    members.push((key, data.get(at..end)?));
                    Some(end)
                }
            }
        })?;
        // As a JSON object holds them: the last of a name wins.
        self.definitions = json_object_order(definitions.unwrap_or_default());
        self.properties = properties.map(json_object_order);
        self.schema = Some(Some(members));
        Some(end)
    }

    /// Reads the extension rules at `at` (`[[rule, [path…], schema, …], …]`);
    /// returns where they end.
    fn read_extensions(&mut self, data: &'static str, at: usize) -> Option<usize> {
        let mut extensions = Vec::new();
        let end = list_items(data, at, &mut |at| {
            let mut parts: Vec<(usize, &'static str)> = Vec::with_capacity(3);
            let end = list_items(data, at, &mut |at| {
                let end = value_end(data.as_bytes(), at)?;
                parts.push((at, data.get(at..end)?));
                Some(end)
            })?;
            let (Some((rule, _)), Some((path, _)), Some((_, schema))) =
                (parts.first(), parts.get(1), parts.get(2))
            else {
                return None;
            };
            let mut steps = Vec::new();
            list_items(data, *path, &mut |at| {
                steps.push(string_at(data, at)?);
                string_end(data.as_bytes(), at)
            })?;
            extensions.push((string_at(data, *rule)?, steps, *schema));
            Some(end)
        })?;
        self.extensions = extensions;
        Some(end)
    }
}

/// Calls `f` with the name of each member of the object at `at` (which
/// must start with `{`) and where its value starts; `f` returns where the
/// value ends. Returns where the object ends; `None` when the text is not
/// JSON.
/// The members of the object at `at` of `data`, each with its value's
/// text, and where the object ends.
fn member_texts(data: &'static str, at: usize) -> Option<(Vec<(Str, &'static str)>, usize)> {
    let bytes = data.as_bytes();
    let mut members = Vec::new();
    let end = object_members(data, at, &mut |name, at| {
        let end = value_end(bytes, at)?;
        members.push((name, data.get(at..end)?));
        Some(end)
    })?;
    Some((members, end))
}

fn object_members(
    data: &'static str,
    at: usize,
    f: &mut dyn FnMut(Str, usize) -> Option<usize>,
) -> Option<usize> {
    let bytes = data.as_bytes();
    let mut i = skip_ws(bytes, at + 1);
    if bytes.get(i) == Some(&b'}') {
        return Some(i + 1);
    }
    loop {
        let key_end = string_end(bytes, i)?;
        let name = string_at(data, i)?;
        i = skip_ws(bytes, key_end);
        if bytes.get(i) != Some(&b':') {
            return None;
        }
        let value_end = f(name, skip_ws(bytes, i + 1))?;
        i = skip_ws(bytes, value_end);
        match bytes.get(i) {
            Some(b',') => i = skip_ws(bytes, i + 1),
            Some(b'}') => return Some(i + 1),
            _ => return None,
        }
    }
}

/// Calls `f` with where each item of the list at `at` starts; `f` returns
/// where the item ends. Returns where the list ends; `None` when the text
/// is not JSON (or not a list).
fn list_items(
    data: &'static str,
    at: usize,
    f: &mut dyn FnMut(usize) -> Option<usize>,
) -> Option<usize> {
    let bytes = data.as_bytes();
    if bytes.get(at) != Some(&b'[') {
        return None;
    }
    let mut i = skip_ws(bytes, at + 1);
    if bytes.get(i) == Some(&b']') {
        return Some(i + 1);
    }
    loop {
        let end = f(i)?;
        i = skip_ws(bytes, end);
        match bytes.get(i) {
            Some(b',') => i = skip_ws(bytes, i + 1),
            Some(b']') => return Some(i + 1),
            _ => return None,
        }
    }
}

/// The members of an object already located, handed to a serde visitor one
/// by one: each value is parsed from its own text, so what is left out of
/// the list (definitions, properties) is never parsed.
struct Members {
    members: std::vec::IntoIter<(Str, &'static str)>,
    value: Option<&'static str>,
}

impl MapAccess<'static> for Members {
    type Error = serde_json::Error;

    fn next_key_seed<K: DeserializeSeed<'static>>(
        &mut self,
        seed: K,
    ) -> std::result::Result<Option<K::Value>, serde_json::Error> {
        let Some((key, value)) = self.members.next() else {
            return Ok(None);
        };
        self.value = Some(value);
        seed.deserialize(CowStrDeserializer::new(key)).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'static>>(
        &mut self,
        seed: V,
    ) -> std::result::Result<V::Value, serde_json::Error> {
        use serde::de::Error as _;
        let text = self
            .value
            .take()
            .ok_or_else(|| serde_json::Error::custom("a value without a name"))?;
        let mut de = serde_json::Deserializer::from_str(text);
        let value = seed.deserialize(&mut de)?;
        de.end()?;
        Ok(value)
    }
}

/// The string that starts (with its quote) at `i`: borrowed from the data
/// unless it holds an escape; `None` when it is no JSON string.
fn string_at(data: &'static str, i: usize) -> Option<Str> {
    let end = string_end(data.as_bytes(), i)?;
    let inner = data.get(i + 1..end - 1)?;
    if inner.bytes().any(|b| b == b'\\' || b < 0x20) {
        serde_json::from_str::<String>(data.get(i..end)?)
            .ok()
            .map(Cow::Owned)
    } else {
        Some(Cow::Borrowed(inner))
    }
}

/// The strings of a JSON list (other items left out); `None` when it is
/// not a list.
fn string_list(v: Option<Raw>) -> Option<Vec<Str>> {
    match v? {
        Raw::Array(items) => Some(
            items
                .into_iter()
                .filter_map(|i| match i {
                    Raw::String(s) => Some(s),
                    _ => None,
                })
                .collect(),
        ),
        _ => None,
    }
}

/// `{name: [names…]}` of `dependentRequired` / `dependentExcluded`, as a
/// JSON object holds them (sorted by name, the last of a name wins).
fn name_lists(v: Option<Raw>) -> Vec<(Str, Vec<Str>)> {
    match v {
        Some(Raw::Object(m)) => json_object_order(
            m.into_iter()
                .map(|(k, v)| (k, string_list(Some(v)).unwrap_or_default()))
                .collect(),
        ),
        _ => Vec::new(),
    }
}

impl Compiled {
    /// Compiles the type's schema of one type's data, without its
    /// definitions and properties, and locates those and the extension
    /// rules; `None` when the data does not parse.
    fn parse(text: &'static str) -> Option<Compiled> {
        let layout = Layout::of(text)?;
        let definitions: Vec<Lazy> = layout
            .definitions
            .into_iter()
            .map(|(name, text)| Lazy::new(name, text))
            .collect();
        let capacity = match &layout.schema {
            Some(Some(members)) => members.iter().map(|(_, t)| schema_count(t)).sum(),
            _ => schema_count(layout.schema_text),
        };
        let mut b = Builder::new(0, capacity, &definitions);
        b.root_properties = layout.properties.is_some();
        let root = match layout.schema {
            Some(Some(members)) => {
                // The members of the type's schema but its definitions and
                // properties, each parsed from its own text.
                let read = SchemaVisitor {
                    b: &mut b,
                    is_root: true,
                }
                .visit_map(Members {
                    members: members.into_iter(),
                    value: None,
                })
                .ok()?;
                Some(match read {
                    Read::Schema(s) => b.push(s),
                    Read::Other => b.push(Schema::Accept),
                })
            }
            Some(None) => {
                let mut de = serde_json::Deserializer::from_str(layout.schema_text);
                let (id, _) = SchemaSeed {
                    b: &mut b,
                    is_root: true,
                }
                .deserialize(&mut de)
                .ok()?;
                de.end().ok()?;
                Some(id)
            }
            None => None,
        };
        let schemas = b.finish();
        let properties = layout
            .properties
            .unwrap_or_default()
            .into_iter()
            .map(|(name, text)| Lazy::new(name, text))
            .collect();
        let extensions = layout
            .extensions
            .into_iter()
            .map(|(rule, at, text)| Extension {
                rule,
                at,
                schema: Lazy::new(Cow::Borrowed(""), text),
            })
            .collect();
        Some(Compiled {
            schemas,
            root,
            definitions,
            properties,
            extensions,
        })
    }

    /// Part `part` (not 0), if there is one.
    fn part(&self, part: Id) -> Option<&Lazy> {
        let mut i = (part as usize).checked_sub(1)?;
        if let Some(d) = self.definitions.get(i) {
            return Some(d);
        }
        i -= self.definitions.len();
        if let Some(p) = self.properties.get(i) {
            return Some(p);
        }
        i -= self.properties.len();
        self.extensions.get(i).map(|x| &x.schema)
    }

    /// The id of part `part`'s schema, compiling it on first use;
    /// [`NO_SCHEMA`] when it does not compile.
    fn part_schema(&self, part: Id) -> Id {
        let Some(lazy) = self.part(part) else {
            return NO_SCHEMA;
        };
        let compiled = lazy.compiled.get_or_init(|| {
            let text = match lazy.source {
                Source::Text(text) => text,
                Source::Code(code) => return code::decode_part(code),
            };
            let mut b = Builder::new(part, schema_count(text), &self.definitions);
            let mut de = serde_json::Deserializer::from_str(text);
            let (id, _) = SchemaSeed {
                b: &mut b,
                is_root: false,
            }
            .deserialize(&mut de)
            .ok()?;
            de.end().ok()?;
            Some((b.finish(), id))
        });
        compiled.as_ref().map_or(NO_SCHEMA, |(_, id)| *id)
    }

    /// The id of definition `index`'s schema, compiling it on first use;
    /// `None` when it does not compile.
    fn definition(&self, index: Id) -> Option<Id> {
        let id = self.part_schema(index.checked_add(1)?);
        (id != NO_SCHEMA).then_some(id)
    }

    /// The part of property `index` of the type's schema.
    fn property_part(&self, index: usize) -> Id {
        Id::try_from(1 + self.definitions.len() + index).unwrap_or(NO_SCHEMA)
    }

    /// The id of extension rule `index`'s schema, compiling it on first
    /// use.
    fn extension(&self, index: usize) -> Id {
        Id::try_from(1 + self.definitions.len() + self.properties.len() + index)
            .map_or(NO_SCHEMA, |part| self.part_schema(part))
    }

    /// Whether every part compiles (each compiled now if it was not).
    fn compiles_all(&self) -> bool {
        let parts = self.definitions.len() + self.properties.len() + self.extensions.len();
        (1..=parts)
            .all(|part| Id::try_from(part).is_ok_and(|part| self.part_schema(part) != NO_SCHEMA))
    }

    /// The schema of property `name` of an object with keywords `o`
    /// (compiling a property of the type's schema on first use).
    fn property(&self, o: &ObjectKeywords, name: &str) -> Option<Id> {
        match &o.properties {
            Properties::Absent => None,
            Properties::Listed(props) => props
                .binary_search_by(|(n, _)| n.as_ref().cmp(name))
                .ok()
                .map(|i| props[i].1),
            Properties::Root => {
                let i = self
                    .properties
                    .binary_search_by(|p| p.name.as_ref().cmp(name))
                    .ok()?;
                Some(self.part_schema(self.property_part(i)))
            }
        }
    }

    /// The names of the properties of an object with keywords `o`, sorted.
    fn property_names<'a>(&'a self, o: &'a ObjectKeywords) -> Vec<&'a str> {
        match &o.properties {
            Properties::Absent => Vec::new(),
            Properties::Listed(props) => props.iter().map(|(k, _)| k.as_ref()).collect(),
            Properties::Root => self.properties.iter().map(|p| p.name.as_ref()).collect(),
        }
    }

    /// The properties of an object with keywords `o`, sorted by name, with
    /// their schemas (compiled if they were not).
    fn properties_of<'a>(&'a self, o: &'a ObjectKeywords) -> Option<Vec<(&'a str, Id)>> {
        match &o.properties {
            Properties::Absent => None,
            Properties::Listed(props) => {
                Some(props.iter().map(|(k, id)| (k.as_ref(), *id)).collect())
            }
            Properties::Root => Some(
                self.properties
                    .iter()
                    .enumerate()
                    .map(|(i, p)| (p.name.as_ref(), self.part_schema(self.property_part(i))))
                    .collect(),
            ),
        }
    }

    fn get(&self, id: Id) -> &Schema {
        if id == NO_SCHEMA {
            return &Schema::Accept;
        }
        let local = (id & LOCAL_MASK) as usize;
        let schemas = match id >> PART_SHIFT {
            0 => Some(&self.schemas),
            part => self
                .part(part)
                .and_then(|p| p.compiled.get())
                .and_then(Option::as_ref)
                .map(|(schemas, _)| schemas),
        };
        schemas
            .and_then(|s| s.get(local))
            .unwrap_or(&Schema::Accept)
    }

    /// Follows `$ref` to its target; `None` when it cannot be followed.
    fn resolve(&self, id: Id) -> Option<&Schema> {
        let mut cur = self.get(id);
        for _ in 0..32 {
            match cur {
                Schema::Node(n) => match n.reference {
                    Some(Ref::Definition(index)) => cur = self.get(self.definition(index)?),
                    Some(Ref::Unresolved) => return None,
                    None => return Some(cur),
                },
                other => return Some(other),
            }
        }
        None
    }

    /// Checks `v` against schema `id`: what is certainly wrong goes to
    /// `check.out`; what cannot be decided sets `check.undecided`.
    fn assert(&self, id: Id, v: &Json, at: &mut At, check: &mut Check) {
        if check.done() {
            return;
        }
        if is_intrinsic(v) {
            check.undecided = true;
            return;
        }
        let Some(schema) = self.resolve(id) else {
            check.undecided = true;
            return;
        };
        let s = match schema {
            Schema::Node(s) => s,
            Schema::False => {
                check.push(at, || "must not be set here".to_string());
                return;
            }
            Schema::Accept => return,
        };
        if s.unsupported {
            check.undecided = true;
        }
        if !s.types.is_empty() && !s.types.codes().any(|t| has_type(v, t)) {
            check.push(at, || {
                let names: Vec<&str> = s.types.names().collect();
                format!("must be {}, got {}", names.join(" or "), kind(v))
            });
            return;
        }
        if let Some(scalar) = &s.scalar {
            let mut buf = NumberText::default();
            let text = match v {
                Json::Number(n) => Some(buf.text(n)),
                _ => scalar_text(v),
            };
            if let Some(text) = text {
                self.assert_scalar(scalar, v, &text, at, check);
            }
        }
        if let (Some(list), Json::Array(items)) = (&s.list, v) {
            self.assert_list(list, items, at, check);
        }
        if let (Some(object), Json::Object(obj)) = (&s.object, v) {
            self.assert_object(object, obj, at, check);
        }
        if let Some(combinations) = &s.combinations {
            self.assert_combinations(combinations, v, at, check);
        }
    }

    fn assert_scalar(&self, s: &ScalarKeywords, v: &Json, text: &str, at: &At, check: &mut Check) {
        if let Some(allowed) = &s.enum_values
            && !allowed.allows(text)
        {
            check.push(at, || {
                let values = &allowed.json();
                let hint = did_you_mean(&close_matches(values, text));
                format!(
                    "is {text:?}, which is not an allowed value{hint} (allowed: {})",
                    listed(values, text)
                )
            });
        }
        if let Some(c) = s.values.as_ref().and_then(|v| v.const_value.as_ref())
            && scalar_text(c).is_some_and(|c| c != text)
        {
            check.push(at, || format!("is {text:?}, it must be {c}"));
        }
        if let (Json::String(text), Some(p)) = (v, &s.pattern) {
            match p.matches(text) {
                Some(false) => check.push(at, || {
                    format!("is {text:?}, which does not match the pattern {}", p.source)
                }),
                Some(true) => {}
                None => check.undecided = true,
            }
        }
        if let (Json::String(text), Some(f)) = (v, &s.format)
            && has_format(f, text) == Some(false)
        {
            check.push(at, || {
                format!("is {text:?}, which is not a valid {f} value")
            });
        }
        if let Json::String(text) = v
            && (s.min_length.is_some() || s.max_length.is_some())
        {
            let len = text.chars().count() as u64;
            if let Some(min) = s.min_length
                && len < min
            {
                check.push(at, || {
                    format!("is {len} characters long, at least {min} are required")
                });
            }
            if let Some(max) = s.max_length
                && len > max
            {
                check.push(at, || {
                    format!("is {len} characters long, at most {max} are allowed")
                });
            }
        }
        if let Some(s) = s.bounds.as_deref()
            && let Some(n) = number(v)
            && !matches!(v, Json::Bool(_))
        {
            if let Some(min) = s.minimum
                && n < min
            {
                check.push(at, || format!("is {text}, the minimum is {min}"));
            }
            if let Some(max) = s.maximum
                && n > max
            {
                check.push(at, || format!("is {text}, the maximum is {max}"));
            }
            if let Some(min) = s.exclusive_minimum
                && n <= min
            {
                check.push(at, || format!("is {text}, it must be more than {min}"));
            }
            if let Some(max) = s.exclusive_maximum
                && n >= max
            {
                check.push(at, || format!("is {text}, it must be less than {max}"));
            }
            if let Some(m) = s.multiple_of
                && m > 0.0
                && (n / m).fract().abs() > 1e-9
            {
                check.push(at, || format!("is {text}, it must be a multiple of {m}"));
            }
        }
    }

    fn assert_list(&self, s: &ListKeywords, items: &[Json], at: &mut At, check: &mut Check) {
        let count = items.len() as u64;
        if let Some(min) = s.min_items
            && count < min
        {
            check.push(at, || {
                format!("has {count} items, at least {min} are required")
            });
        }
        if let Some(max) = s.max_items
            && count > max
        {
            check.push(at, || {
                format!("has {count} items, at most {max} are allowed")
            });
        }
        if let Some(item_schema) = s.items {
            for (i, item) in items.iter().enumerate() {
                let mark = at.enter_index(i);
                self.assert(item_schema, item, at, check);
                at.leave(mark);
            }
        }
        if let Some(c) = s.contains {
            let (yes, unknown) = self.fits(c, items.iter());
            if yes == 0 && unknown == 0 {
                check.push(at, || format!("has no item {}", self.describe(c)));
            } else if yes == 0 {
                check.undecided = true;
            }
        }
    }

    fn assert_object(
        &self,
        s: &ObjectKeywords,
        obj: &Map<String, Json>,
        at: &mut At,
        check: &mut Check,
    ) {
        if let Some(required) = &s.required {
            for r in required {
                if !obj.contains_key(r.as_ref()) {
                    check.push(at, || format!("needs the property {r}, which is missing"));
                }
            }
        }
        for (name, value) in obj {
            let mut matched = false;
            if let Some(ps) = self.property(s, name) {
                matched = true;
                let mark = at.enter(name);
                self.assert(ps, value, at, check);
                at.leave(mark);
            }
            for (p, ps) in &s.pattern_properties {
                match p.matches(name) {
                    Some(true) => {
                        matched = true;
                        let mark = at.enter(name);
                        self.assert(*ps, value, at, check);
                        at.leave(mark);
                    }
                    Some(false) => {}
                    None => {
                        matched = true;
                        check.undecided = true;
                    }
                }
            }
            if matched {
                continue;
            }
            match s.additional {
                Additional::Forbidden => {
                    let mark = at.enter(name);
                    check.push(at, || {
                        let hint = did_you_mean(&similar_names(self.property_names(s), name));
                        format!("is not a property of this object{hint}")
                    });
                    at.leave(mark);
                }
                Additional::Schema(extra) => {
                    let mark = at.enter(name);
                    self.assert(extra, value, at, check);
                    at.leave(mark);
                }
                Additional::Any => {}
            }
        }
        if let Some(more) = &s.more {
            self.assert_more_object(more, obj, at, check);
        }
    }

    fn assert_more_object(
        &self,
        s: &MoreObjectKeywords,
        obj: &Map<String, Json>,
        at: &At,
        check: &mut Check,
    ) {
        let count = obj.len() as u64;
        if let Some(min) = s.min_properties
            && count < min
        {
            check.push(at, || {
                format!("has {count} entries, at least {min} are required")
            });
        }
        if let Some(max) = s.max_properties
            && count > max
        {
            check.push(at, || {
                format!("has {count} entries, at most {max} are allowed")
            });
        }
        for (name, needs) in s
            .dependent_required
            .iter()
            .filter(|(n, _)| obj.contains_key(n.as_ref()))
        {
            for n in needs {
                if !obj.contains_key(n.as_ref()) {
                    check.push(at, || format!("sets {name}, which needs {n} too"));
                }
            }
        }
        for (name, excluded) in s
            .dependent_excluded
            .iter()
            .filter(|(n, _)| obj.contains_key(n.as_ref()))
        {
            for n in excluded {
                if obj.contains_key(n.as_ref()) {
                    check.push(at, || format!("sets both {name} and {n}; set only one"));
                }
            }
        }
        for (names, exactly_one) in [(&s.required_xor, true), (&s.required_or, false)] {
            if let Some(names) = names {
                let set = names
                    .iter()
                    .filter(|n| obj.contains_key(n.as_ref()))
                    .count();
                if set == 0 || (exactly_one && set > 1) {
                    check.push(at, || {
                        format!(
                            "must set {} of {}, sets {set}",
                            if exactly_one {
                                "exactly one"
                            } else {
                                "at least one"
                            },
                            names.join(", ")
                        )
                    });
                }
            }
        }
    }

    fn assert_combinations(&self, s: &Combinations, v: &Json, at: &mut At, check: &mut Check) {
        for sub in &s.all_of {
            self.assert(*sub, v, at, check);
        }
        if let Some(any) = &s.any_of {
            let (yes, unknown) = self.fits_any(any, v, 1);
            if !any.is_empty() && yes == 0 && unknown == 0 {
                check.push(at, || self.explain_alternatives(any, v, "at least one"));
            } else if yes == 0 && !any.is_empty() {
                check.undecided = true;
            }
        }
        if let Some(one) = &s.one_of {
            let (yes, unknown) = self.fits_any(one, v, 2);
            if !one.is_empty() && (yes > 1 || (yes == 0 && unknown == 0)) {
                check.push(at, || self.explain_alternatives(one, v, "exactly one"));
            } else if unknown > 0 {
                check.undecided = true;
            }
        }
        if let Some(not) = s.not {
            match self.fit(not, v) {
                Fit::Yes => check.push(at, || {
                    format!(
                        "has a combination that is not allowed ({})",
                        self.describe(not)
                    )
                }),
                Fit::Unknown => check.undecided = true,
                Fit::No => {}
            }
        }
        if let Some(cond) = s.if_ {
            match self.fit(cond, v) {
                Fit::Yes => {
                    if let Some(then) = s.then {
                        self.assert(then, v, at, check);
                    }
                }
                Fit::No => {
                    if let Some(other) = s.else_ {
                        self.assert(other, v, at, check);
                    }
                }
                Fit::Unknown => check.undecided = true,
            }
        }
    }

    /// A message for `anyOf` / `oneOf` failures, from the alternatives' own
    /// first violations.
    fn explain_alternatives(&self, alts: &[Id], v: &Json, how: &str) -> String {
        let mut reasons = Vec::new();
        for alt in alts.iter().take(4) {
            let mut inner = Check::default();
            self.assert(*alt, v, &mut At::default(), &mut inner);
            match inner.out.into_iter().next() {
                Some(f) if f.at.is_empty() => reasons.push(f.message),
                Some(f) => reasons.push(format!("{} {}", f.at, f.message)),
                None => reasons.push(self.describe(*alt)),
            }
        }
        format!(
            "must match {how} of {} alternatives; {}",
            alts.len(),
            reasons.join(" / ")
        )
    }

    /// How many of `values` certainly fit schema `id`, stopping at the
    /// first (more do not change the outcome), and how many cannot be told
    /// before it.
    fn fits<'v>(&self, id: Id, values: impl Iterator<Item = &'v Json>) -> (usize, usize) {
        let mut unknown = 0;
        for v in values {
            match self.fit(id, v) {
                Fit::Yes => return (1, unknown),
                Fit::Unknown => unknown += 1,
                Fit::No => {}
            }
        }
        (0, unknown)
    }

    /// How many of the schemas `alts` `v` certainly fits (counting stops at
    /// `enough`, past which the outcome is the same), and how many cannot be
    /// told.
    fn fits_any(&self, alts: &[Id], v: &Json, enough: usize) -> (usize, usize) {
        let (mut yes, mut unknown) = (0, 0);
        for alt in alts {
            match self.fit(*alt, v) {
                Fit::Yes => {
                    yes += 1;
                    if yes >= enough {
                        break;
                    }
                }
                Fit::Unknown => unknown += 1,
                Fit::No => {}
            }
        }
        (yes, unknown)
    }

    /// Schema `id` as a condition: does `v` certainly fit, certainly not,
    /// or cannot it be told?
    fn fit(&self, id: Id, v: &Json) -> Fit {
        let mut inner = Check::quiet();
        self.assert(id, v, &mut At::untracked(), &mut inner);
        if inner.failed {
            Fit::No
        } else if inner.undecided {
            Fit::Unknown
        } else {
            Fit::Yes
        }
    }

    /// A short description of a (condition) schema as written (its own
    /// keywords, not those of a `$ref` target), for messages.
    fn describe(&self, id: Id) -> String {
        let Schema::Node(node) = self.get(id) else {
            return "another shape".to_string();
        };
        let object = node.object.as_deref();
        if let Some(required) = object.and_then(|o| o.required.as_ref())
            && !required.is_empty()
        {
            return format!("with {}", required.join(", "));
        }
        if let Some(props) = object.and_then(|o| self.properties_of(o)) {
            let parts: Vec<String> = props
                .iter()
                .filter_map(|(k, p)| {
                    let Schema::Node(p) = self.get(*p) else {
                        return None;
                    };
                    let scalar = p.scalar.as_deref()?;
                    let values = scalar.values.as_deref();
                    let c = values.and_then(|v| v.const_value.clone()).or_else(|| {
                        scalar
                            .enum_values
                            .as_ref()
                            .map(|e| Json::Array(e.json()))
                            .or_else(|| values.and_then(|v| v.enum_other.clone()))
                    })?;
                    Some(format!("{k} = {c}"))
                })
                .collect();
            if !parts.is_empty() {
                return parts.join(", ");
            }
        }
        "another shape".to_string()
    }
}

/// What checking found: certain violations, and whether some part could
/// not be decided (an intrinsic value, an unsupported keyword or pattern).
#[derive(Default)]
struct Check {
    out: Vec<Violation>,
    undecided: bool,
    /// Only whether something is wrong matters (a schema used as a
    /// condition): no message is made, and checking stops at the first.
    quiet: bool,
    /// Whether a violation was found.
    failed: bool,
}

impl Check {
    /// A check of a schema used as a condition.
    fn quiet() -> Self {
        Check {
            quiet: true,
            ..Check::default()
        }
    }

    fn push(&mut self, at: &At, message: impl FnOnce() -> String) {
        self.failed = true;
        if !self.quiet {
            self.out.push(Violation {
                at: at.0.clone(),
                message: message(),
            });
        }
    }

    /// Whether checking can stop (a condition already failed).
    fn done(&self) -> bool {
        self.quiet && self.failed
    }
}

/// Where in the properties a check is (`ContainerDefinitions.0.Cpu`), built
/// in one buffer: entering a step appends to it, leaving truncates it, so
/// walking a resource allocates nothing per property. A check that makes
/// no messages (a schema used as a condition) keeps no path.
#[derive(Default)]
struct At(String, Untracked);

/// Whether an [`At`] keeps no path.
#[derive(Default, Clone, Copy)]
struct Untracked(bool);

impl At {
    /// A place whose path is not kept.
    fn untracked() -> Self {
        At(String::new(), Untracked(true))
    }

    /// Appends a step; returns the mark to leave it with.
    fn enter(&mut self, step: &str) -> usize {
        let mark = self.0.len();
        if self.1.0 {
            return mark;
        }
        if mark > 0 {
            self.0.push('.');
        }
        self.0.push_str(step);
        mark
    }

    /// Appends a list index.
    fn enter_index(&mut self, i: usize) -> usize {
        let mark = self.0.len();
        if self.1.0 {
            return mark;
        }
        if mark > 0 {
            self.0.push('.');
        }
        let _ = write!(self.0, "{i}");
        mark
    }

    fn leave(&mut self, mark: usize) {
        self.0.truncate(mark);
    }
}

/// One broken constraint.
struct Violation {
    at: String,
    message: String,
}

/// The outcome of checking a value against a schema used as a condition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fit {
    Yes,
    No,
    Unknown,
}

/// Whether a JSON value is resolved by CloudFormation at deploy time.
fn is_intrinsic(v: &Json) -> bool {
    match v {
        Json::Object(m) if m.len() == 1 => m
            .keys()
            .next()
            .is_some_and(|k| k == "Ref" || k.starts_with("Fn::") || k == "Condition"),
        _ => false,
    }
}

/// The value as text, for enums, patterns and lengths (CloudFormation
/// passes scalars as strings).
fn scalar_text(v: &Json) -> Option<Cow<'_, str>> {
    match v {
        Json::String(s) => Some(Cow::Borrowed(s)),
        Json::Number(n) => Some(Cow::Owned(n.to_string())),
        Json::Bool(b) => Some(Cow::Borrowed(if *b { "true" } else { "false" })),
        _ => None,
    }
}

/// A number's text as [`scalar_text`] gives it, written on the stack.
struct NumberText {
    bytes: [u8; 40],
    len: usize,
}

impl Default for NumberText {
    fn default() -> Self {
        NumberText {
            bytes: [0; 40],
            len: 0,
        }
    }
}

impl std::fmt::Write for NumberText {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let end = self.len + s.len();
        let slot = self.bytes.get_mut(self.len..end).ok_or(std::fmt::Error)?;
        slot.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

impl NumberText {
    fn text(&mut self, n: &serde_json::Number) -> Cow<'_, str> {
        self.len = 0;
        if write!(self, "{n}").is_ok()
            && let Ok(text) = std::str::from_utf8(&self.bytes[..self.len])
        {
            return Cow::Borrowed(text);
        }
        Cow::Owned(n.to_string())
    }
}

fn number(v: &Json) -> Option<f64> {
    match v {
        Json::Number(n) => n.as_f64(),
        Json::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn kind(v: &Json) -> &'static str {
    match v {
        Json::Null => "null",
        Json::Bool(_) => "a boolean",
        Json::Number(_) => "a number",
        Json::String(_) => "a string",
        Json::Array(_) => "a list",
        Json::Object(_) => "an object",
    }
}

/// Whether `v` has the JSON-schema type of code `t` (`1 +` its index in
/// [`TYPE_NAMES`]), CloudFormation-style: scalars given as strings count
/// for numbers and booleans when they parse.
fn has_type(v: &Json, t: u64) -> bool {
    match t {
        1 => matches!(v, Json::String(_) | Json::Number(_) | Json::Bool(_)),
        2 => match v {
            Json::Number(n) => {
                n.is_i64() || n.is_u64() || n.as_f64().is_some_and(|f| f.fract() == 0.0)
            }
            Json::String(s) => s.trim().parse::<i64>().is_ok(),
            _ => false,
        },
        3 => number(v).is_some(),
        4 => match v {
            Json::Bool(_) => true,
            Json::String(s) => s.eq_ignore_ascii_case("true") || s.eq_ignore_ascii_case("false"),
            _ => false,
        },
        5 => v.is_array(),
        6 => v.is_object(),
        7 => v.is_null(),
        _ => true,
    }
}

fn quote_list(values: &[Json]) -> String {
    let shown: Vec<String> = values
        .iter()
        .take(LIST_LIMIT)
        .map(|v| scalar_text(v).map_or_else(|| v.to_string(), Cow::into_owned))
        .collect();
    let mut s = shown.join(", ");
    if values.len() > LIST_LIMIT {
        s.push_str(&format!(", … ({} values in all)", values.len()));
    }
    s
}

/// Allowed values close to `got`, best first: those sharing its longest
/// prefix (`16.99` → `16.9`, `16.8`, …), else by similarity.
/// `"; did you mean A or B?"`, or nothing when there is no suggestion.
pub(crate) fn did_you_mean<S: AsRef<str>>(suggestions: &[S]) -> String {
    if suggestions.is_empty() {
        return String::new();
    }
    let names: Vec<&str> = suggestions.iter().map(AsRef::as_ref).collect();
    format!("; did you mean {}?", names.join(" or "))
}

/// The names close to `name` (a property misspelt), sorted.
pub(crate) fn similar_names<'n>(
    names: impl IntoIterator<Item = &'n str>,
    name: &str,
) -> Vec<&'n str> {
    let mut close: Vec<&str> = names
        .into_iter()
        .filter(|k| strsim::jaro_winkler(k, name) > 0.8)
        .collect();
    close.sort_unstable();
    close
}

fn close_matches(values: &[Json], got: &str) -> Vec<String> {
    let texts: Vec<String> = values
        .iter()
        .filter_map(|v| scalar_text(v).map(Cow::into_owned))
        .collect();
    let lower = got.to_ascii_lowercase();
    let mut scored: Vec<(f64, &String)> = texts
        .iter()
        .map(|v| (strsim::jaro_winkler(&v.to_ascii_lowercase(), &lower), v))
        .filter(|(score, _)| *score > 0.85)
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(b.1)));
    scored.into_iter().take(3).map(|(_, v)| v.clone()).collect()
}

/// The allowed values worth listing: all when few, else the ones sharing
/// the longest prefix with `got` (the same major version, the same
/// instance family).
fn listed(values: &[Json], got: &str) -> String {
    if values.len() <= LIST_LIMIT {
        return quote_list(values);
    }
    let texts: Vec<String> = values
        .iter()
        .filter_map(|v| scalar_text(v).map(Cow::into_owned))
        .collect();
    let common = |v: &str| {
        v.chars()
            .zip(got.chars())
            .take_while(|(a, b)| a == b)
            .count()
    };
    let best = texts.iter().map(|v| common(v)).max().unwrap_or(0);
    // Back to a family boundary (`16.`, `db.t3.`), so that siblings show.
    let head: String = got.chars().take(best).collect();
    let prefix = match head.rfind(['.', '-', ':']) {
        Some(i) if i > 0 => head[..=i].to_string(),
        _ => head,
    };
    if prefix.is_empty() {
        return quote_list(values);
    }
    let near: Vec<Json> = texts
        .iter()
        .filter(|v| v.starts_with(&prefix))
        .map(|v| Json::String(v.clone()))
        .collect();
    format!(
        "{} of {} values start with {prefix:?}: {}",
        near.len(),
        values.len(),
        quote_list(&near)
    )
}

/// Whether `text` has the named format, for the formats cfn-lint checks
/// that matter in templates (others are not judged).
fn has_format(format: &str, text: &str) -> Option<bool> {
    let network = |t: &str, v6: bool| {
        let Some((addr, len)) = t.split_once('/') else {
            return false;
        };
        let Ok(len) = len.parse::<u8>() else {
            return false;
        };
        if v6 {
            addr.parse::<std::net::Ipv6Addr>().is_ok() && len <= 128
        } else {
            addr.parse::<std::net::Ipv4Addr>().is_ok() && len <= 32
        }
    };
    match format {
        "ipv4" => Some(text.parse::<std::net::Ipv4Addr>().is_ok()),
        "ipv6" => Some(text.parse::<std::net::Ipv6Addr>().is_ok()),
        "ipv4-network" => Some(network(text, false)),
        "ipv6-network" => Some(network(text, true)),
        _ => None,
    }
}
