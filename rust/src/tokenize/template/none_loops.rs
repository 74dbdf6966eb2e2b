//! jinja2 raises `TypeError: 'NoneType' object is not iterable` when a `{% for %}` loops over
//! None (a null `system` column's turn, a JSON null), where minijinja loops zero times; a
//! render must fail where transformers' fails. The source is rewritten before it compiles.

/// jinja2 raises `TypeError: 'NoneType' object is not iterable` when a `{% for %}` loops over
/// None (a null `system` column's turn, a JSON null), where minijinja loops zero times: such
/// a row must fail as it fails in Axolotl. Every `{% for TARGET in ITER [if ...] [recursive] %}`
/// becomes `{% set v = ITER %}{% if v is none %}{{ raise_exception(...) }}{% endif %}{% for
/// TARGET in v [if ...] [recursive] %}`: ITER is evaluated once, as before, and the tags are
/// adjacent and keep the original's whitespace modifiers (outermost), so the output and the
/// line numbers do not change. Comments, `{{ }}` and raw blocks are copied as they are. None
/// when the source has no loop to guard (or is not well-formed: the compiler then reports it).
pub(super) fn guard_none_loops(source: &str) -> Option<String> {
    if !source.contains("for") {
        return None;
    }
    let mut out = String::with_capacity(source.len() + 256);
    let mut rest = source;
    let mut guarded = 0usize;
    while let Some(open) = rest.find('{') {
        let (before, from) = rest.split_at(open);
        out.push_str(before);
        let kind = from.as_bytes().get(1).copied();
        match kind {
            Some(b'#') => {
                let end = from.find("#}")? + 2;
                out.push_str(&from[..end]);
                rest = &from[end..];
            }
            Some(b'{') => {
                let end = 2 + tag_end(&from[2..], "}}")? + 2;
                out.push_str(&from[..end]);
                rest = &from[end..];
            }
            Some(b'%') => {
                let close = 2 + tag_end(&from[2..], "%}")?;
                let inner = &from[2..close];
                let end = close + 2;
                let lmod = inner.chars().next().filter(|c| matches!(c, '-' | '+'));
                let body_start = lmod.map_or(0, char::len_utf8);
                let rmod = inner[body_start..].chars().last().filter(|c| matches!(c, '-' | '+'));
                let body_end = inner.len() - rmod.map_or(0, char::len_utf8);
                let body = inner[body_start..body_end].trim();
                let word = leading_word(body);
                if word == "raw" {
                    let after = &from[end..];
                    let stop = find_endraw(after)?;
                    out.push_str(&from[..end + stop]);
                    rest = &from[end + stop..];
                    continue;
                }
                match (word == "for").then(|| split_for(&body[3..])).flatten() {
                    Some((target, iter, tail)) => {
                        let var = format!("__fax_loop_iterable_{guarded}");
                        guarded += 1;
                        let l = lmod.map(String::from).unwrap_or_default();
                        let r = rmod.map(String::from).unwrap_or_default();
                        let tail = if tail.is_empty() { String::new() } else { format!(" {tail}") };
                        out.push_str(&format!(
                            "{{%{l} set {var} = {iter} %}}{{% if {var} is none %}}{{{{ raise_exception(\"TypeError: 'NoneType' object is not iterable\") }}}}{{% endif %}}{{% for {target} in {var}{tail} {r}%}}"
                        ));
                    }
                    None => out.push_str(&from[..end]),
                }
                rest = &from[end..];
            }
            _ => {
                out.push('{');
                rest = &from[1..];
            }
        }
    }
    out.push_str(rest);
    (guarded > 0).then_some(out)
}

/// The offset of `close` in `text`, outside string literals.
fn tag_end(text: &str, close: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut i = 0;
    let mut quote: Option<u8> = None;
    while i < bytes.len() {
        let b = bytes[i];
        match quote {
            Some(q) => {
                if b == b'\\' {
                    i += 1;
                } else if b == q {
                    quote = None;
                }
            }
            None => {
                if b == b'\'' || b == b'"' {
                    quote = Some(b);
                } else if bytes[i..].starts_with(close.as_bytes()) {
                    return Some(i);
                }
            }
        }
        i += 1;
    }
    None
}

fn leading_word(body: &str) -> &str {
    let end = body.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(body.len());
    &body[..end]
}

/// The offset of the end of the `{% endraw %}` tag that closes a raw block.
fn find_endraw(text: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(open) = text[from..].find("{%") {
        let start = from + open + 2;
        let close = start + text[start..].find("%}")?;
        let inner = text[start..close].trim_matches(|c: char| c == '-' || c == '+' || c.is_whitespace());
        if inner == "endraw" {
            return Some(close + 2);
        }
        from = close + 2;
    }
    None
}

/// `TARGET in ITER TAIL` of a for tag's body (after `for`), split at the top-level words `in`
/// and `if`/`recursive` (jinja2 allows no inline `if` in a loop's iterable without brackets).
fn split_for(body: &str) -> Option<(&str, &str, &str)> {
    if !body.starts_with(char::is_whitespace) {
        return None;
    }
    let words = top_level_words(body);
    let (in_start, in_end) = words.iter().copied().find(|&(s, e)| &body[s..e] == "in")?;
    let tail_start = words
        .iter()
        .copied()
        .find(|&(s, e)| s > in_end && matches!(&body[s..e], "if" | "recursive"))
        .map_or(body.len(), |(s, _)| s);
    let target = body[..in_start].trim();
    let iter = body[in_end..tail_start].trim();
    if target.is_empty() || iter.is_empty() {
        return None;
    }
    Some((target, iter, body[tail_start..].trim()))
}

/// The spans of the identifiers of `text` outside brackets, string literals and attribute
/// access.
fn top_level_words(text: &str) -> Vec<(usize, usize)> {
    let bytes = text.as_bytes();
    let mut words = Vec::new();
    let mut depth = 0i32;
    let mut quote: Option<u8> = None;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if let Some(q) = quote {
            if b == b'\\' {
                i += 1;
            } else if b == q {
                quote = None;
            }
            i += 1;
            continue;
        }
        match b {
            b'\'' | b'"' => quote = Some(b),
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => depth -= 1,
            _ if b.is_ascii_alphabetic() || b == b'_' => {
                let start = i;
                while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                    i += 1;
                }
                let after_dot = text[..start].trim_end().ends_with('.');
                if depth == 0 && !after_dot {
                    words.push((start, i));
                }
                continue;
            }
            _ if b.is_ascii_digit() => {
                while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_' || bytes[i] == b'.') {
                    i += 1;
                }
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tokenize::ChatTemplate;
    use minijinja::Value;

    #[test]
    fn loops_are_guarded_against_none() {
        let source = "{%- for m in messages if m.role != 'x' -%}\n{{ m }}{% endfor %}{# {% for a in b %} #}{% raw %}{% for r in s %}{% endraw %}";
        let guarded = guard_none_loops(source).unwrap();
        assert_eq!(
            guarded,
            "{%- set __fax_loop_iterable_0 = messages %}{% if __fax_loop_iterable_0 is none %}{{ raise_exception(\"TypeError: 'NoneType' object is not iterable\") }}{% endif %}{% for m in __fax_loop_iterable_0 if m.role != 'x' -%}\n{{ m }}{% endfor %}{# {% for a in b %} #}{% raw %}{% for r in s %}{% endraw %}"
        );
        let nested = guard_none_loops(
            "{% for k, v in (a if b else c).items() recursive %}{% for x in \"in %}\" %}{% endfor %}{% endfor %}",
        )
        .unwrap();
        assert!(nested.contains("{% set __fax_loop_iterable_0 = (a if b else c).items() %}"), "{nested}");
        assert!(nested.contains("{% for k, v in __fax_loop_iterable_0 recursive %}"), "{nested}");
        assert!(nested.contains("{% set __fax_loop_iterable_1 = \"in %}\" %}"), "{nested}");
        assert_eq!(guard_none_loops("{{ 'for' }} no loops"), None);
        // Multi-byte characters inside a tag: byte positions are never sliced mid-character.
        assert!(guard_none_loops("{% for x in é %}{% endfor %}{% for y in 'ü' %}{{ y }}{% endfor %}").is_some());
        // ChatTemplate guards its source itself.
        let render = |source: &str, value: Value| {
            let template = ChatTemplate::new(source).unwrap();
            template.render(&Value::from_pairs([(Value::from("x"), value)]))
        };
        assert_eq!(render("{% for c in x %}{{ c }}{% endfor %}", Value::from("ab")).unwrap(), "ab");
        assert_eq!(render("{% for c in x %}{{ c }}{% else %}none{% endfor %}", Value::UNDEFINED).unwrap(), "none");
        assert!(render("{% for c in x %}{{ c }}{% endfor %}", Value::from(())).is_err());
    }
}
