//! Renders checked against jinja2 as transformers configures it (expected strings were
//! printed by `_compile_jinja_template(src).render(**ctx)` with transformers 5.16.1).

use minijinja::Value;

use super::*;

fn render(source: &str, context: Value) -> Result<String> {
    ChatTemplate::new(source)?.render(&context)
}

fn ctx(pairs: &[(&str, Value)]) -> Value {
    Value::from_pairs(pairs.iter().cloned())
}

#[test]
fn prints_values_like_python() {
    let out = render(
        "{{ 1.0 }} {{ 1e-5 }} {{ x }} {{ [1.0, 'a', none, true] }} {{ {'a': \"it's\"} }} {{ u }}|",
        ctx(&[("x", Value::from(1e16))]),
    )
    .unwrap();
    assert_eq!(out, "1.0 1e-05 1e+16 [1.0, 'a', None, True] {'a': \"it's\"} |");
}

#[test]
fn tojson_is_json_dumps() {
    let tools = Value::from(vec![Value::from_pairs([("name", Value::from("<f>")), ("x", Value::from(0.00001))])]);
    let out = render(
        "{{ tools|tojson }}|{{ tools[0]|tojson(indent=2) }}|{{ 'é'|tojson(ensure_ascii=True) }}",
        ctx(&[("tools", tools)]),
    )
    .unwrap();
    assert_eq!(out, "[{\"name\": \"<f>\", \"x\": 1e-05}]|{\n  \"name\": \"<f>\",\n  \"x\": 1e-05\n}|\"\\u00e9\"");
}

#[test]
fn blocks_are_trimmed_and_generation_passes_through() {
    let source = "{% for m in messages %}\n  {% generation %}{{ m }}{%- endgeneration %}\n{% endfor %}\n";
    let out = render(source, ctx(&[("messages", Value::from(vec!["a", "b"]))])).unwrap();
    assert_eq!(out, "ab");
    assert_eq!(rewrite_generation_tags("{%- generation -%}x{%+ endgeneration %}"), "{%- if true -%}x{%+ endif %}");
    assert_eq!(rewrite_generation_tags("{{ 'generation' }}{% if x %}"), "{{ 'generation' }}{% if x %}");
}

#[test]
fn python_methods_and_filters() {
    let out = render(
        "{{ s.strip() }}|{{ s.split() }}|{{ 'a,b'.split(',', 1) }}|{{ s|trim }}|{{ 'x'.startswith(('y', 'x')) }}|\
         {{ d.get('k') }}|{{ d.get('z', 3) }}|{% for k, v in d.items() %}{{ k }}={{ v }}{% endfor %}|{{ 'o neil'|title }}|{{ ' 3\n'|int }}",
        ctx(&[("s", Value::from("\x1c a b \u{a0}")), ("d", Value::from_pairs([("k", Value::from(1))]))]),
    )
    .unwrap();
    assert_eq!(out, "a b|['a', 'b']|['a', 'b']|a b|True|1|3|k=1|O Neil|3");
}

#[test]
fn tests_follow_jinja2() {
    let out = render(
        "{{ u is sequence }} {{ u is iterable }} {{ none is iterable }} {{ 'ab' is sequence }} {{ {} is sequence }}",
        ctx(&[]),
    )
    .unwrap();
    assert_eq!(out, "True True False True True");
}

#[test]
fn raise_exception_and_errors_name_the_line() {
    let err = render("a\n{{ raise_exception('Roles must alternate') }}", ctx(&[])).unwrap_err();
    assert_eq!(err, Error::invalid("Roles must alternate (chat template line 2)"));
    let err = ChatTemplate::new("ok\n{% if %}").err().unwrap();
    assert!(
        err.message().starts_with("chat template syntax error") && err.message().ends_with("(chat template line 2)"),
        "{err}"
    );
    let err = render("{{ x.y }}", ctx(&[])).unwrap_err();
    assert!(err.message().starts_with("chat template error"), "{err}");
}

#[test]
fn strftime_now_uses_the_pinned_date() {
    let now = chrono::NaiveDate::from_ymd_opt(2024, 7, 26).unwrap().and_hms_opt(9, 30, 0).unwrap();
    let template =
        ChatTemplate::with_options("{{ strftime_now('%d %b %Y') }}", TemplateOptions { now: Some(now) }).unwrap();
    assert_eq!(template.render(&ctx(&[])).unwrap(), "26 Jul 2024");
    let options = TemplateOptions::from_json(r#"{"now": "2024-07-26T09:30:00"}"#).unwrap();
    assert_eq!(options.now, Some(now));
    assert!(TemplateOptions::from_json(r#"{"then": 1}"#).is_err());
}
