//! The validation data in the form the checks read, encoded at build time
//! (`validate_code.bin`, written from `validate_data.rs` by the test
//! `tests/validate_code.rs`; see `docs/codegen.md`), so that a process does
//! not compile each type's JSON text on first use.
//!
//! What is encoded is the compiled form itself ([`Compiled`], every part
//! compiled): schemas in arena order with `$ref` already resolved to
//! definition indices, keywords as fields, `enum` values with their sorted
//! order. Decoding a part allocates what compiling it from text allocates,
//! but reads no JSON: no scan for where values end, no keyword matching,
//! no escapes. A type's definitions, properties and extension rules are
//! still decoded one by one, on first use.
//!
//! Layout of the file (integers LEB128 unless said otherwise):
//! - `KHSV1`, the fingerprint of the data it was written from (8 bytes
//!   little-endian, see [`fingerprint`]), and the number of types (4 bytes
//!   little-endian);
//! - one entry of 12 bytes per type, in the order of `KNOWN_TYPES`: where
//!   its code starts and ends in the file and the length of its JSON text
//!   (4 bytes little-endian each);
//! - each type's code: `0` when its data does not compile, else `1`, its
//!   root, the schemas of its own part, the names of its definitions and
//!   properties and its extension rules (rule, path) each with the length
//!   of its part's code, and then those parts' code in that order.
//!
//! A file written from other data than this build's (its fingerprint
//! differs from `validate_data::FINGERPRINT`, which the generator writes) is
//! not used at all, nor an entry whose JSON text's length differs: those
//! types are compiled from their text as before. So data regenerated without
//! the file costs time, never a wrong verdict, and the test fails on it. The
//! fingerprint does not cover the form itself: after changing the compiled
//! form, rewrite the file (the test fails until then).

use std::borrow::Cow;
use std::sync::OnceLock;

use serde_json::Value as Json;

use crate::validate_data::FINGERPRINT;

use super::{
    Additional, Bounds, Combinations, Compiled, EnumValues, Extension, Id, Lazy, ListKeywords,
    MoreObjectKeywords, Node, ObjectKeywords, Pattern, Properties, Raw, Ref, ScalarKeywords,
    ScalarValues, Schema, Source, Str, Types,
};

const MAGIC: &[u8] = b"KHSV1";
/// Where the number of types is (after the magic and the fingerprint).
const COUNT_AT: usize = MAGIC.len() + 8;
/// Where the entries start.
const ENTRIES_AT: usize = COUNT_AT + 4;
const ENTRY: usize = 12;

/// The committed code of every type.
static CODE: &[u8] = include_bytes!("../validate_code.bin");

/// The code as committed (for the test that compares it with the data).
pub(super) fn committed() -> &'static [u8] {
    CODE
}

/// The code of type `index` in `code`, when its entry fits a JSON text of
/// `text_len` bytes.
fn type_code(code: &'static [u8], index: usize, text_len: usize) -> Option<&'static [u8]> {
    let fingerprint = u64::from_le_bytes(code.get(MAGIC.len()..COUNT_AT)?.try_into().ok()?);
    let count = u32_at(code, COUNT_AT)? as usize;
    if code.get(..MAGIC.len())? != MAGIC || fingerprint != FINGERPRINT || index >= count {
        return None;
    }
    let entry = ENTRIES_AT + index * ENTRY;
    let (start, end, len) = (
        u32_at(code, entry)? as usize,
        u32_at(code, entry + 4)? as usize,
        u32_at(code, entry + 8)? as usize,
    );
    (len == text_len).then(|| code.get(start..end)).flatten()
}

/// Whether `code` has an entry for type `index` that fits a JSON text of
/// `text_len` bytes and this build's data.
pub(super) fn fits(code: &'static [u8], index: usize, text_len: usize) -> bool {
    type_code(code, index, text_len).is_some()
}

fn u32_at(code: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(code.get(at..at + 4)?.try_into().ok()?))
}

/// Type `index`'s compiled data from the committed code: `Some(None)` when
/// its data does not compile; `None` when the code has no entry that fits
/// (then the caller compiles the text).
pub(super) fn compiled(index: usize, text: &str) -> Option<Option<Compiled>> {
    decode_type(type_code(CODE, index, text.len())?)
}

fn decode_type(code: &'static [u8]) -> Option<Option<Compiled>> {
    let mut r = In { code, at: 0 };
    if !bool::take(&mut r)? {
        return Some(None);
    }
    let root = <Option<Id> as Code>::take(&mut r)?;
    let schemas = Vec::<Schema>::take(&mut r)?;
    let mut lens = Vec::new();
    let mut named = |r: &mut In| -> Option<Vec<Str>> {
        let n = r.len()?;
        let mut names = Vec::with_capacity(n);
        for _ in 0..n {
            names.push(Str::take(r)?);
            lens.push(r.len()?);
        }
        Some(names)
    };
    let definitions = named(&mut r)?;
    let properties = named(&mut r)?;
    let n = r.len()?;
    let mut extensions = Vec::with_capacity(n);
    for _ in 0..n {
        extensions.push((Str::take(&mut r)?, Vec::<Str>::take(&mut r)?));
        lens.push(r.len()?);
    }
    // The parts' code follows, in order.
    let mut parts = lens.into_iter().map(|len| {
        let part = code.get(r.at..r.at.checked_add(len)?)?;
        r.at += len;
        Some(Source::Code(part))
    });
    let mut lazies = |names: Vec<Str>| -> Option<Vec<Lazy>> {
        names
            .into_iter()
            .map(|name| Some(Lazy::with_source(name, parts.next()??)))
            .collect()
    };
    let definitions = lazies(definitions)?;
    let properties = lazies(properties)?;
    let extensions = extensions
        .into_iter()
        .map(|(rule, at)| {
            Some(Extension {
                rule,
                at,
                schema: Lazy::with_source(Cow::Borrowed(""), parts.next()??),
            })
        })
        .collect::<Option<Vec<_>>>()?;
    Some(Some(Compiled {
        schemas,
        root,
        definitions,
        properties,
        extensions,
    }))
}

/// One part's schemas and the id of its schema (`None`: the part does not
/// compile), from its code.
pub(super) fn decode_part(code: &'static [u8]) -> Option<(Vec<Schema>, Id)> {
    let mut r = In { code, at: 0 };
    let part = <Option<(Vec<Schema>, Id)> as Code>::take(&mut r)?;
    (r.at == code.len()).then_some(part).flatten()
}

/// The code of every type, encoded from the JSON texts (`texts`, in the
/// order of `KNOWN_TYPES`): what `validate_code.bin` must hold.
pub(super) fn encode_all(texts: &[&'static str]) -> Vec<u8> {
    let codes: Vec<Vec<u8>> = texts
        .iter()
        .map(|t| encode_type(Compiled::parse(t)))
        .collect();
    let mut out = MAGIC.to_vec();
    out.extend_from_slice(&fingerprint(texts.iter().copied()).to_le_bytes());
    let count = u32::try_from(texts.len()).unwrap_or(u32::MAX);
    out.extend_from_slice(&count.to_le_bytes());
    let mut at = ENTRIES_AT + ENTRY * texts.len();
    for (code, text) in codes.iter().zip(texts) {
        for n in [at, at + code.len(), text.len()] {
            out.extend_from_slice(&u32::try_from(n).unwrap_or(u32::MAX).to_le_bytes());
        }
        at += code.len();
    }
    for code in &codes {
        out.extend_from_slice(code);
    }
    out
}

/// FNV-1a (64 bits) over each text followed by a zero byte, as `xtask`
/// computes `validate_data::FINGERPRINT` (the test compares the two).
pub(super) fn fingerprint<'a>(texts: impl IntoIterator<Item = &'a str>) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for text in texts {
        for b in text.bytes().chain(std::iter::once(0)) {
            hash ^= u64::from(b);
            hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    hash
}

/// The code of one type's compiled data, every part compiled.
fn encode_type(compiled: Option<Compiled>) -> Vec<u8> {
    let mut o = Out(Vec::new());
    let Some(c) = compiled else {
        false.put(&mut o);
        return o.0;
    };
    // Compiles every part now (those that do not compile are encoded so).
    let parts = c.definitions.len() + c.properties.len() + c.extensions.len();
    for part in 1..=parts {
        c.part_schema(Id::try_from(part).unwrap_or(Id::MAX));
    }
    true.put(&mut o);
    c.root.put(&mut o);
    c.schemas.put(&mut o);
    let part_code = |lazy: &Lazy| {
        let mut p = Out(Vec::new());
        lazy.compiled.get().and_then(Option::as_ref).put_ref(&mut p);
        p.0
    };
    let mut parts = Vec::new();
    for list in [&c.definitions, &c.properties] {
        o.len(list.len());
        for lazy in list {
            lazy.name.put(&mut o);
            let code = part_code(lazy);
            o.len(code.len());
            parts.push(code);
        }
    }
    o.len(c.extensions.len());
    for ext in &c.extensions {
        ext.rule.put(&mut o);
        ext.at.put(&mut o);
        let code = part_code(&ext.schema);
        o.len(code.len());
        parts.push(code);
    }
    for part in parts {
        o.0.extend_from_slice(&part);
    }
    o.0
}

/// Decodes every type of the committed code with all its parts and
/// encodes it again: the name of the first type whose code comes out
/// different (so the decoder misses something the encoder writes), or of
/// one that does not decode.
pub(super) fn first_that_does_not_reencode(names: &[&str], texts: &[&str]) -> Option<String> {
    for (index, (name, text)) in names.iter().zip(texts).enumerate() {
        let Some(code) = type_code(CODE, index, text.len()) else {
            return Some(format!("{name} (no entry that fits)"));
        };
        let Some(decoded) = decode_type(code) else {
            return Some(format!("{name} (does not decode)"));
        };
        if encode_type(decoded) != code {
            return Some(name.to_string());
        }
    }
    None
}

// ---------------------------------------------------------------------------
// The encoding of each piece of the compiled form: `put` and `take` side by
// side, fields in declaration order (destructured, so that a new field does
// not compile until it is encoded). A struct's fields are written after one
// byte whose bits say which of them are set (see [`Field`]), so an absent
// field takes no byte.

/// `code_struct!(S { a, b, … })` implements [`Code`] for struct `S` with
/// fields `a`, `b`, … (at most eight, every field: the pattern that takes
/// them apart names them all): one byte whose bits say which fields are
/// set, then the fields that are set, in that order.
macro_rules! code_struct {
    ($s:ident { $($f:ident),+ $(,)? }) => {
        impl Code for $s {
            fn put(&self, o: &mut Out) {
                let $s { $($f),+ } = self;
                let mut mask = 0u8;
                let mut bit = 1u8;
                $(
                    if Field::is_set($f) {
                        mask |= bit;
                    }
                    bit = bit.wrapping_shl(1);
                )+
                let _ = bit;
                o.0.push(mask);
                $(
                    if Field::is_set($f) {
                        Field::put_set($f, o);
                    }
                )+
            }
            fn take(r: &mut In) -> Option<Self> {
                let mask = r.byte()?;
                let mut bit = 1u8;
                $(
                    let set = mask & bit != 0;
                    bit = bit.wrapping_shl(1);
                    let $f = if set { Field::take_set(r)? } else { Field::unset() };
                )+
                let _ = bit;
                Some($s { $($f),+ })
            }
        }
    };
}

/// `code_enum!(E { 0 => A, 1 => B; 2 => C(T), … })` implements [`Code`]
/// for enum `E`: a byte for the variant (the number given), then the value
/// of a variant that holds one. Variants without a value come before the
/// `;`, those with one after it.
macro_rules! code_enum {
    ($e:ident { $($ut:literal => $u:ident),* ; $($wt:literal => $w:ident($t:ty)),* $(,)? }) => {
        impl Code for $e {
            fn put(&self, o: &mut Out) {
                match self {
                    $($e::$u => o.0.push($ut),)*
                    $($e::$w(value) => {
                        o.0.push($wt);
                        value.put(o);
                    })*
                }
            }
            fn take(r: &mut In) -> Option<Self> {
                match r.byte()? {
                    $($ut => Some($e::$u),)*
                    $($wt => <$t as Code>::take(r).map($e::$w),)*
                    _ => None,
                }
            }
        }
    };
}

/// A field of a struct, written only when it is set.
trait Field: Sized {
    fn is_set(&self) -> bool;
    fn put_set(&self, o: &mut Out);
    fn take_set(r: &mut In) -> Option<Self>;
    fn unset() -> Self;
}

impl<T: Code> Field for Option<T> {
    fn is_set(&self) -> bool {
        self.is_some()
    }
    fn put_set(&self, o: &mut Out) {
        if let Some(v) = self {
            v.put(o);
        }
    }
    fn take_set(r: &mut In) -> Option<Self> {
        T::take(r).map(Some)
    }
    fn unset() -> Self {
        None
    }
}

/// `true` is set (and takes no byte more).
impl Field for bool {
    fn is_set(&self) -> bool {
        *self
    }
    fn put_set(&self, _: &mut Out) {}
    fn take_set(_: &mut In) -> Option<Self> {
        Some(true)
    }
    fn unset() -> Self {
        false
    }
}

/// A list is set when it is not empty.
impl<T: Code> Field for Vec<T> {
    fn is_set(&self) -> bool {
        !self.is_empty()
    }
    fn put_set(&self, o: &mut Out) {
        self.put(o);
    }
    fn take_set(r: &mut In) -> Option<Self> {
        Vec::take(r)
    }
    fn unset() -> Self {
        Vec::new()
    }
}

/// `field_unless_default!(T: is_set, …)`: a [`Field`] of type `T` is
/// unset when it is `T::default()`, which `is_set` tells apart.
macro_rules! field_unless_default {
    ($($t:ty: $is_set:expr),+ $(,)?) => {
        $(
            impl Field for $t {
                fn is_set(&self) -> bool {
                    let is_set: fn(&$t) -> bool = $is_set;
                    is_set(self)
                }
                fn put_set(&self, o: &mut Out) {
                    self.put(o);
                }
                fn take_set(r: &mut In) -> Option<Self> {
                    <$t as Code>::take(r)
                }
                fn unset() -> Self {
                    <$t>::default()
                }
            }
        )+
    };
}

field_unless_default!(
    // No `type` keyword (0).
    Types: |t| !t.is_empty(),
    Properties: |p| !matches!(p, Properties::Absent),
    Additional: |a| !matches!(a, Additional::Any),
);

struct Out(Vec<u8>);

impl Out {
    fn uint(&mut self, mut n: u64) {
        loop {
            let byte = (n & 0x7f) as u8;
            n >>= 7;
            if n == 0 {
                self.0.push(byte);
                return;
            }
            self.0.push(byte | 0x80);
        }
    }

    fn len(&mut self, n: usize) {
        self.uint(n as u64);
    }
}

struct In {
    code: &'static [u8],
    at: usize,
}

impl In {
    fn byte(&mut self) -> Option<u8> {
        let b = *self.code.get(self.at)?;
        self.at += 1;
        Some(b)
    }

    fn uint(&mut self) -> Option<u64> {
        let mut n = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            n |= u64::from(b & 0x7f).checked_shl(shift)?;
            if b & 0x80 == 0 {
                return Some(n);
            }
        }
        None
    }

    /// A count of items still to read (each takes at least a byte, so a
    /// count past the end is no count).
    fn len(&mut self) -> Option<usize> {
        let n = usize::try_from(self.uint()?).ok()?;
        (n <= self.code.len() - self.at.min(self.code.len())).then_some(n)
    }

    fn bytes(&mut self, n: usize) -> Option<&'static [u8]> {
        let b = self.code.get(self.at..self.at.checked_add(n)?)?;
        self.at += n;
        Some(b)
    }
}

trait Code: Sized {
    fn put(&self, o: &mut Out);
    fn take(r: &mut In) -> Option<Self>;
}

impl Code for u64 {
    fn put(&self, o: &mut Out) {
        o.uint(*self);
    }
    fn take(r: &mut In) -> Option<Self> {
        r.uint()
    }
}

impl Code for u32 {
    fn put(&self, o: &mut Out) {
        o.uint(u64::from(*self));
    }
    fn take(r: &mut In) -> Option<Self> {
        u32::try_from(r.uint()?).ok()
    }
}

impl Code for bool {
    fn put(&self, o: &mut Out) {
        o.0.push(u8::from(*self));
    }
    fn take(r: &mut In) -> Option<Self> {
        match r.byte()? {
            0 => Some(false),
            1 => Some(true),
            _ => None,
        }
    }
}

impl Code for f64 {
    fn put(&self, o: &mut Out) {
        o.0.extend_from_slice(&self.to_bits().to_le_bytes());
    }
    fn take(r: &mut In) -> Option<Self> {
        Some(f64::from_bits(u64::from_le_bytes(
            r.bytes(8)?.try_into().ok()?,
        )))
    }
}

impl Code for Str {
    fn put(&self, o: &mut Out) {
        o.len(self.len());
        o.0.extend_from_slice(self.as_bytes());
    }
    /// Borrowed from the code, as the compiled text borrows from the data.
    fn take(r: &mut In) -> Option<Self> {
        let n = r.len()?;
        std::str::from_utf8(r.bytes(n)?).ok().map(Cow::Borrowed)
    }
}

impl<T: Code> Code for Option<T> {
    fn put(&self, o: &mut Out) {
        self.as_ref().put_ref(o);
    }
    fn take(r: &mut In) -> Option<Self> {
        if bool::take(r)? {
            T::take(r).map(Some)
        } else {
            Some(None)
        }
    }
}

trait PutRef {
    fn put_ref(self, o: &mut Out);
}

impl<T: Code> PutRef for Option<&T> {
    fn put_ref(self, o: &mut Out) {
        self.is_some().put(o);
        if let Some(v) = self {
            v.put(o);
        }
    }
}

impl<T: Code> Code for Vec<T> {
    fn put(&self, o: &mut Out) {
        o.len(self.len());
        for item in self {
            item.put(o);
        }
    }
    fn take(r: &mut In) -> Option<Self> {
        let n = r.len()?;
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            out.push(T::take(r)?);
        }
        Some(out)
    }
}

impl<T: Code> Code for Box<T> {
    fn put(&self, o: &mut Out) {
        (**self).put(o);
    }
    fn take(r: &mut In) -> Option<Self> {
        T::take(r).map(Box::new)
    }
}

impl<A: Code, B: Code> Code for (A, B) {
    fn put(&self, o: &mut Out) {
        self.0.put(o);
        self.1.put(o);
    }
    fn take(r: &mut In) -> Option<Self> {
        Some((A::take(r)?, B::take(r)?))
    }
}

/// JSON values kept for messages (`const`, a non-list `enum`): as text.
impl Code for Json {
    fn put(&self, o: &mut Out) {
        Str::Owned(self.to_string()).put(o);
    }
    fn take(r: &mut In) -> Option<Self> {
        serde_json::from_str(&Str::take(r)?).ok()
    }
}

impl Code for serde_json::Number {
    fn put(&self, o: &mut Out) {
        Str::Owned(self.to_string()).put(o);
    }
    fn take(r: &mut In) -> Option<Self> {
        Str::take(r)?.parse().ok()
    }
}

code_enum!(Raw {
    0 => Null;
    1 => Bool(bool),
    2 => Number(serde_json::Number),
    3 => String(Str),
    4 => Array(Vec<Raw>),
    5 => Object(Vec<(Str, Raw)>),
});

impl Code for Types {
    fn put(&self, o: &mut Out) {
        self.0.put(o);
    }
    fn take(r: &mut In) -> Option<Self> {
        u64::take(r).map(Types)
    }
}

code_enum!(Ref {
    1 => Unresolved;
    0 => Definition(Id),
});

code_enum!(Schema {
    0 => False,
    1 => Accept;
    2 => Node(Node),
});

code_struct!(Node {
    reference,
    unsupported,
    types,
    scalar,
    list,
    object,
    combinations
});

code_struct!(ScalarKeywords {
    enum_values,
    pattern,
    format,
    min_length,
    max_length,
    bounds,
    values
});

code_struct!(EnumValues {
    values,
    sorted,
    case_insensitive
});

/// Its source; the matcher is compiled on first use, as from text.
impl Code for Pattern {
    fn put(&self, o: &mut Out) {
        let Pattern {
            source,
            compiled: _,
        } = self;
        source.put(o);
    }
    fn take(r: &mut In) -> Option<Self> {
        Some(Pattern {
            source: Str::take(r)?,
            compiled: OnceLock::new(),
        })
    }
}

code_struct!(Bounds {
    minimum,
    maximum,
    exclusive_minimum,
    exclusive_maximum,
    multiple_of
});

code_struct!(ScalarValues {
    enum_other,
    const_value
});

code_struct!(ListKeywords {
    min_items,
    max_items,
    items,
    contains
});

code_enum!(Properties {
    0 => Absent,
    2 => Root;
    1 => Listed(Vec<(Str, Id)>),
});

code_struct!(ObjectKeywords {
    properties,
    required,
    pattern_properties,
    additional,
    more
});

code_struct!(MoreObjectKeywords {
    min_properties,
    max_properties,
    dependent_required,
    dependent_excluded,
    required_xor,
    required_or
});

code_enum!(Additional {
    0 => Any,
    1 => Forbidden;
    2 => Schema(Id),
});

code_struct!(Combinations {
    all_of,
    any_of,
    one_of,
    not,
    if_,
    then,
    else_
});
