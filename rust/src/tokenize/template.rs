//! A chat template compiled once, rendered as transformers 5.16 renders it with jinja2:
//! `ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)` with the
//! `loopcontrols` and `{% generation %}` extensions, no autoescape, jinja2's lenient
//! undefined, `tojson` = `json.dumps(ensure_ascii=False)`, and the globals
//! `raise_exception` and `strftime_now` (`transformers/utils/chat_template_utils.py`).
//!
//! minijinja differs from jinja2 in what it prints and in the Python methods and filters
//! templates use, so the environment replaces those with Python's semantics:
//! `pyrepr` (printing), `pyjson` (`tojson`), `pystr` (methods, `trim`, `title`), and the
//! filters and tests in `filters`. docs/chat-templates.md lists what still differs.

mod filters;
mod none_loops;
mod strftime;

use std::borrow::Cow;

use chrono::NaiveDateTime;
use minijinja::{AutoEscape, Environment, ErrorKind, UndefinedBehavior, Value};

use super::{pyrepr, pystr};
use crate::error::{Error, Result};

/// The name the template has inside its environment (minijinja's messages use it).
const NAME: &str = "chat_template";

/// How a template renders beyond its source.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TemplateOptions {
    /// The local date-time `strftime_now` formats; `None` reads the clock at each call,
    /// as transformers' `datetime.now()` does. Pin it for reproducible renders.
    pub now: Option<NaiveDateTime>,
}

impl TemplateOptions {
    /// Options from JSON: `{}` or `{"now": "2024-07-26T09:30:00"}` (ISO 8601, optional
    /// fractional seconds; `null` = the clock). Unknown keys are refused.
    pub fn from_json(text: &str) -> Result<Self> {
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| Error::invalid(format!("template options are not JSON: {e}")))?;
        let serde_json::Value::Object(map) = value else {
            return Err(Error::invalid("template options must be a JSON object"));
        };
        let mut options = TemplateOptions::default();
        for (key, value) in map {
            match (key.as_str(), value) {
                ("now", serde_json::Value::Null) => options.now = None,
                ("now", serde_json::Value::String(text)) => options.now = Some(parse_datetime(&text)?),
                ("now", other) => {
                    return Err(Error::invalid(format!(
                        "template option now must be an ISO date-time string, got {other}"
                    )))
                }
                (other, _) => return Err(Error::invalid(format!("unknown template option {other:?}"))),
            }
        }
        Ok(options)
    }
}

fn parse_datetime(text: &str) -> Result<NaiveDateTime> {
    ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%d"]
        .iter()
        .find_map(|fmt| {
            NaiveDateTime::parse_from_str(text, fmt)
                .ok()
                .or_else(|| chrono::NaiveDate::parse_from_str(text, fmt).ok().and_then(|d| d.and_hms_opt(0, 0, 0)))
        })
        .ok_or_else(|| Error::invalid(format!("template option now {text:?} is not an ISO date-time")))
}

/// A compiled chat template. Rendering takes `&self` and builds nothing per call, so one
/// template renders rows on many threads at once.
pub struct ChatTemplate {
    env: Environment<'static>,
}

// Rows render in parallel on rayon threads.
const _: () = {
    const fn send_sync<T: Send + Sync>() {}
    send_sync::<ChatTemplate>();
};

impl ChatTemplate {
    /// Compiles `source`; a syntax error is `Error::InvalidArgument` naming the line.
    pub fn new(source: &str) -> Result<Self> {
        Self::with_options(source, TemplateOptions::default())
    }

    /// Compiles `source` with `options`.
    pub fn with_options(source: &str, options: TemplateOptions) -> Result<Self> {
        let source = rewrite_generation_tags(source);
        // The guarded source compiles wherever the original does; should it ever not, the
        // original is used as it is (and its own error, if any, is reported).
        if let Some(guarded) = none_loops::guard_none_loops(&source) {
            let mut env = environment(options.clone());
            if env.add_template_owned(NAME, guarded).is_ok() {
                return Ok(ChatTemplate { env });
            }
        }
        let mut env = environment(options);
        env.add_template_owned(NAME, source.into_owned()).map_err(|e| syntax_error(&e))?;
        Ok(ChatTemplate { env })
    }

    /// Renders with `context` (a map: messages, tools, documents, add_generation_prompt,
    /// special-token strings, chat_template_kwargs ...). A `raise_exception` call is
    /// `Error::InvalidArgument` with its message; any other render error is too, with
    /// minijinja's message prefixed by "chat template error". Both name the template line.
    pub fn render(&self, context: &Value) -> Result<String> {
        let template = self.env.get_template(NAME).map_err(|e| render_error(&e))?;
        template.render(context.clone()).map_err(|e| render_error(&e))
    }
}

/// The environment transformers builds, in minijinja.
fn environment(options: TemplateOptions) -> Environment<'static> {
    let mut env = Environment::new();
    let mut syntax = minijinja::syntax::SyntaxConfig::builder();
    syntax.trim_blocks(true).lstrip_blocks(true).keep_trailing_newline(false);
    // The default delimiters never fail to build.
    env.set_syntax(syntax.build().expect("default delimiters"));
    env.set_auto_escape_callback(|_| AutoEscape::None);
    env.set_undefined_behavior(UndefinedBehavior::Lenient);
    env.set_formatter(|out, _state, value| {
        match value.as_str() {
            Some(s) if value.kind() == minijinja::value::ValueKind::String => out.write_str(s),
            _ => out.write_str(&pyrepr::py_str(value)),
        }
        .map_err(|_| minijinja::Error::from(ErrorKind::WriteFailure))
    });
    env.set_unknown_method_callback(pystr::call_method);
    filters::register(&mut env);
    env.add_function("raise_exception", raise_exception);
    let now = options.now;
    env.add_function("strftime_now", move |format: Cow<'_, str>| {
        let now = now.unwrap_or_else(|| chrono::Local::now().naive_local());
        strftime::strftime(&now, &format)
    });
    env
}

/// The message a `raise_exception` call carries through minijinja's error.
#[derive(Debug)]
struct Raised(String);

impl std::fmt::Display for Raised {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Raised {}

/// jinja2's `raise_exception(message)`: a TemplateError whose text is `str(message)`.
fn raise_exception(message: Value) -> std::result::Result<Value, minijinja::Error> {
    let text = pyrepr::py_str(&message);
    Err(minijinja::Error::new(ErrorKind::InvalidOperation, text.clone()).with_source(Raised(text)))
}

/// `{% generation %}` / `{% endgeneration %}` (transformers' AssistantTracker, which
/// passes its body through) become `{% if true %}` / `{% endif %}`, keeping the `-`/`+`
/// whitespace modifiers.
fn rewrite_generation_tags(source: &str) -> Cow<'_, str> {
    if !source.contains("generation") {
        return Cow::Borrowed(source);
    }
    let mut out = String::with_capacity(source.len());
    let mut rest = source;
    while let Some(open) = rest.find("{%") {
        let (before, after) = rest.split_at(open + 2);
        out.push_str(before);
        let modifier = usize::from(after.starts_with(['-', '+']));
        let body = after[modifier..].trim_start();
        let word_len = body.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(body.len());
        let tail = body[word_len..].trim_start();
        let closes = ["%}", "-%}", "+%}"].iter().any(|end| tail.starts_with(end));
        let replacement = match &body[..word_len] {
            "generation" if closes => "if true",
            "endgeneration" if closes => "endif",
            _ => {
                rest = after;
                continue;
            }
        };
        out.push_str(&after[..after.len() - body.len()]);
        out.push_str(replacement);
        rest = &body[word_len..];
    }
    out.push_str(rest);
    Cow::Owned(out)
}

fn line_suffix(err: &minijinja::Error) -> String {
    err.line().map(|line| format!(" (chat template line {line})")).unwrap_or_default()
}

fn syntax_error(err: &minijinja::Error) -> Error {
    let detail = err.detail().map_or_else(|| err.kind().to_string(), str::to_string);
    Error::invalid(format!("chat template syntax error: {detail}{}", line_suffix(err)))
}

/// The error of a failed render: a `raise_exception` message as raised, anything else
/// as "chat template error: ...". Both end with the template line when minijinja has it.
fn render_error(err: &minijinja::Error) -> Error {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = source {
        if let Some(raised) = e.downcast_ref::<Raised>() {
            return Error::invalid(format!("{raised}{}", line_suffix(err)));
        }
        source = e.source();
    }
    let detail = err.detail().map_or_else(|| err.kind().to_string(), |d| format!("{}: {d}", err.kind()));
    Error::invalid(format!("chat template error: {detail}{}", line_suffix(err)))
}

#[cfg(test)]
mod tests;
