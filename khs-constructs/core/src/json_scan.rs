//! Finding where JSON values end in a text, without parsing them: for the
//! readers that index a text and parse only the parts they need (the
//! members of a [`JsonText`](super::json_text::JsonText), the parts of the
//! schema validator's data in `khs-cfn`). Nothing here checks the text
//! beyond what finding an end needs; the parse of a part checks the rest.

/// The index of the first byte at or after `i` that is not ASCII
/// whitespace.
pub fn skip_ws(bytes: &[u8], mut i: usize) -> usize {
    while bytes.get(i).is_some_and(|b| b.is_ascii_whitespace()) {
        i += 1;
    }
    i
}

/// The end (the index after the closing quote) of the string whose opening
/// quote is at `i`; `None` when there is no string there or it is not
/// closed.
pub fn string_end(bytes: &[u8], i: usize) -> Option<usize> {
    if bytes.get(i) != Some(&b'"') {
        return None;
    }
    let mut j = i + 1;
    loop {
        j += memchr::memchr2(b'"', b'\\', bytes.get(j..)?)?;
        if bytes.get(j) == Some(&b'"') {
            return Some(j + 1);
        }
        // Past the escaped character.
        j += 2;
    }
}

/// The bytes [`value_end`] stops at in a list or an object.
const STRUCTURAL: [bool; 256] = {
    let mut table = [false; 256];
    table[b'"' as usize] = true;
    table[b'{' as usize] = true;
    table[b'[' as usize] = true;
    table[b'}' as usize] = true;
    table[b']' as usize] = true;
    table
};

/// The end (the index after it) of the JSON value that starts at `i`.
pub fn value_end(bytes: &[u8], i: usize) -> Option<usize> {
    match bytes.get(i)? {
        b'"' => string_end(bytes, i),
        b'{' | b'[' => {
            let mut depth = 0usize;
            let mut j = i;
            loop {
                j += bytes
                    .get(j..)?
                    .iter()
                    .position(|&b| STRUCTURAL[usize::from(b)])?;
                match bytes.get(j)? {
                    b'"' => {
                        j = string_end(bytes, j)?;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    _ => {
                        depth = depth.checked_sub(1)?;
                        if depth == 0 {
                            return Some(j + 1);
                        }
                    }
                }
                j += 1;
            }
        }
        _ => {
            let len = bytes
                .get(i..)?
                .iter()
                .position(|&b| matches!(b, b',' | b'}' | b']') || b.is_ascii_whitespace())
                .unwrap_or(bytes.len() - i);
            (len > 0).then_some(i + len)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_ends_of_strings_containers_and_scalars() {
        let text = br#"{"a\"}": [1, "]", {"b": {}}], "c": 2.5e3 , "d": "x\\"}"#;
        assert_eq!(value_end(text, 0), Some(text.len()));
        assert_eq!(string_end(text, 1), Some(7));
        let list = 9;
        assert_eq!(text[list], b'[');
        assert_eq!(text[value_end(text, list).unwrap() - 1], b']');
        let number = text.windows(5).position(|w| w == b"2.5e3").unwrap();
        assert_eq!(value_end(text, number), Some(number + 5));
        assert_eq!(skip_ws(b"  \n x", 0), 4);
        assert_eq!(string_end(b"\"open", 0), None);
        assert_eq!(value_end(b"[1, [2]", 0), None);
    }
}
