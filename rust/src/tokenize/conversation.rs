//! The turns Axolotl's `chat_template` strategy renders for a row
//! (`get_conversation_thread`, `transform_message`, `_convert_content_parts`, `_get_tools`),
//! as Python dicts in Axolotl's key order.

use std::sync::Arc;

use indexmap::IndexMap;
use minijinja::Value;

use super::plan::ChatPlan;
use super::pystr;
use super::pyvalue::{from_json, PyValue};
use super::Fallback;

/// One message as the template sees it: a Python dict.
pub type Turn = IndexMap<Arc<str>, PyValue>;

pub trait TurnExt {
    fn to_jinja(&self) -> Value;
}

impl TurnExt for Turn {
    fn to_jinja(&self) -> Value {
        Value::from_pairs(self.iter().map(|(k, v)| (Value::from(k.clone()), v.to_jinja())))
    }
}

pub struct Conversation {
    pub turns: Vec<Turn>,
    /// `_get_tools`: None when absent or null.
    pub tools: Option<PyValue>,
}

fn key(text: &str) -> Arc<str> {
    Arc::from(text)
}

/// The reason's prefix for rows that only Axolotl's own map reproduces (fast_axolotl reads it).
pub const UNBATCHED: &str = "unbatched:";

fn fallback(message: impl Into<String>) -> Fallback {
    Fallback(message.into())
}

impl Conversation {
    /// `get_conversation_thread(prompt)` and `_get_tools(prompt)` for the row dict `row`
    /// (top-level columns; null cells are `PyValue::None`, as `remove_none_values` leaves
    /// them at that level).
    pub fn from_row(plan: &ChatPlan, row: &IndexMap<Arc<str>, PyValue>) -> Result<Conversation, Fallback> {
        let mut messages = messages(plan, row)?;
        let first = messages.first().ok_or_else(|| fallback("IndexError: list index out of range (no messages)"))?;
        let possible_system = transform_message(plan, first)?;
        // transform_message parses tool-call arguments in place, in the message itself: the
        // loop below transforms the first message a second time, from what the first pass left.
        if let Some(calls) = possible_system.get("tool_calls") {
            // The key it came from: the template's own `tool_calls` (copied last), else the
            // mapping's source.
            let from_template = plan.message_variables.iter().any(|v| v == "tool_calls")
                && !plan.message_property_mappings.values().any(|v| v == "tool_calls")
                && first.get("tool_calls").is_some_and(|v| !v.is_none());
            let source = match plan.message_property_mappings.get("tool_calls") {
                Some(source) if !from_template => source.as_str(),
                _ => "tool_calls",
            };
            let source = source.to_owned();
            if let PyValue::Dict(fields) = &mut messages[0] {
                if let Some(value) = fields.get_mut(source.as_str()) {
                    *value = calls.clone();
                }
            }
        }
        let mut turns = Vec::with_capacity(messages.len() + 1);
        let first_role = possible_system.get("role").ok_or_else(|| fallback("KeyError: 'role'"))?;
        if first_role.as_str() != Some("system") {
            if let Some(system) = row.get(plan.field_system.as_str()) {
                turns.push(Turn::from_iter([(key("role"), PyValue::str("system")), (key("content"), system.clone())]));
            }
        }
        for message in &messages {
            turns.push(thread_turn(plan, message)?);
        }
        if plan.drop_system_message {
            let role = turns[0].get("role").ok_or_else(|| fallback("KeyError: 'role'"))?;
            if role.as_str() == Some("system") {
                turns.remove(0);
            }
        }
        Ok(Conversation { turns, tools: tools(plan, row)? })
    }
}

/// `_get_messages`: a list, or a JSON string of a list of dicts.
fn messages(plan: &ChatPlan, row: &IndexMap<Arc<str>, PyValue>) -> Result<Vec<PyValue>, Fallback> {
    let value =
        row.get(plan.field_messages.as_str()).ok_or_else(|| fallback(format!("{UNBATCHED} no messages column")))?;
    if !matches!(value, PyValue::Str(_) | PyValue::List(_)) {
        // `is_prompt_batched` is false: Axolotl takes its whole map batch for one prompt.
        return Err(fallback(format!("{UNBATCHED} a row's messages are neither a list nor a string")));
    }
    let parsed;
    let value = match value {
        PyValue::Str(text) => {
            parsed = from_json(text).map_err(|e| fallback(e.0))?;
            match &parsed {
                PyValue::List(items) if items.iter().all(|m| matches!(m, PyValue::Dict(_))) => &parsed,
                _ => return Err(fallback("AssertionError: messages JSON is not a list of dicts")),
            }
        }
        other => other,
    };
    match value {
        PyValue::List(items) => Ok(items.clone()),
        _ => Err(fallback("ValueError: Unknown messages format")),
    }
}

/// One turn of the loop in `get_conversation_thread`.
fn thread_turn(plan: &ChatPlan, message: &PyValue) -> Result<Turn, Fallback> {
    let mut turn = transform_message(plan, message)?;
    for (field, name) in
        [(&plan.message_field_training, "training"), (&plan.message_field_training_detail, "training_detail")]
    {
        if let Some(value) = field.as_deref().and_then(|f| message.get(f)).filter(|v| !v.is_none()) {
            turn.insert(key(name), value.clone());
        }
    }
    if let Some((text, details)) = convert_content_parts(turn.get("content"))? {
        turn.insert(key("content"), PyValue::str(&text));
        if let Some(details) = details {
            turn.insert(key("training_detail"), details);
        }
    }
    let thinking = plan.template_thinking_key.as_str();
    if let Some((text, details)) = convert_content_parts(turn.get(thinking))? {
        turn.insert(key(thinking), PyValue::str(&text));
        if let Some(details) = details {
            turn.insert(key("reasoning_training_detail"), details);
        }
    }
    Ok(turn)
}

/// `transform_message`: mapped properties, the role map, split_thinking, the extra keys the
/// template reads, tool-call arguments parsed from JSON.
fn transform_message(plan: &ChatPlan, message: &PyValue) -> Result<Turn, Fallback> {
    let PyValue::Dict(fields) = message else { return Err(fallback("AttributeError: a message is not a dict")) };
    let mut turn = Turn::new();
    for (target, source) in &plan.message_property_mappings {
        if let Some(value) = fields.get(source.as_str()).filter(|v| !v.is_none()) {
            turn.insert(key(target), value.clone());
        }
    }
    // `roles.get(role, role)`: a role that is not a string matches no (string) source and
    // stays as it is, unless Python cannot hash it.
    match turn.get("role") {
        Some(PyValue::Str(role)) => {
            if let Some(mapped) = plan.roles.get(&**role) {
                turn.insert(key("role"), PyValue::str(mapped));
            }
        }
        Some(PyValue::List(_) | PyValue::Dict(_)) => return Err(fallback("TypeError: unhashable role")),
        _ => {}
    }
    if plan.split_thinking {
        let role = turn.get("role").ok_or_else(|| fallback("KeyError: 'role'"))?;
        if role.as_str() == Some("assistant") {
            split_thinking(plan, &mut turn)?;
        }
    }
    let mapped: Vec<&str> = plan.message_property_mappings.values().map(String::as_str).collect();
    for name in &plan.message_variables {
        if mapped.contains(&name.as_str()) {
            continue;
        }
        if let Some(value) = fields.get(name.as_str()).filter(|v| !v.is_none()) {
            turn.insert(key(name), value.clone());
        }
    }
    if let Some(calls) = turn.get_mut("tool_calls").filter(|c| c.truthy()) {
        parse_tool_arguments(calls)?;
    }
    Ok(turn)
}

/// Python's `name in value` for a string `name`: a substring of a str, an element of a list,
/// a key of a dict; a TypeError for anything else.
fn py_contains(value: &PyValue, name: &str) -> Result<bool, Fallback> {
    match value {
        PyValue::Str(text) => Ok(text.contains(name)),
        PyValue::List(items) => Ok(items.iter().any(|item| item.as_str() == Some(name))),
        PyValue::Dict(fields) => Ok(fields.contains_key(name)),
        _ => Err(fallback(format!("TypeError: `{name:?} in` a value that is not a container"))),
    }
}

/// Python's `value[name]` for a dict that holds `name` (a TypeError for anything else).
fn py_item_mut<'a>(value: &'a mut PyValue, name: &str) -> Result<&'a mut PyValue, Fallback> {
    match value {
        PyValue::Dict(fields) => fields.get_mut(name).ok_or_else(|| fallback(format!("KeyError: {name:?}"))),
        _ => Err(fallback(format!("TypeError: indexing a value that is not a dict with {name:?}"))),
    }
}

/// `for tool_call in tool_calls: if "function" in tool_call and "arguments" in
/// tool_call["function"]: ...` with string arguments `json.loads`-ed in place; `calls` is
/// truthy. A string iterates its characters (no "function" in any), a dict its keys.
fn parse_tool_arguments(calls: &mut PyValue) -> Result<(), Fallback> {
    let items = match calls {
        PyValue::List(items) => items,
        PyValue::Str(_) => return Ok(()),
        PyValue::Dict(fields) => {
            return match fields.keys().any(|k| k.contains("function")) {
                true => Err(fallback("TypeError: string indices must be integers")),
                false => Ok(()),
            }
        }
        _ => return Err(fallback("TypeError: tool_calls is not iterable")),
    };
    for call in items {
        if !py_contains(call, "function")? {
            continue;
        }
        let function = py_item_mut(call, "function")?;
        if !py_contains(function, "arguments")? {
            continue;
        }
        let arguments = py_item_mut(function, "arguments")?;
        if let PyValue::Str(text) = arguments {
            *arguments = from_json(text).map_err(|e| fallback(format!("tool call arguments: {}", e.0)))?;
        }
    }
    Ok(())
}

const THINKING_PAIRS: [(&str, &str); 3] =
    [("<think>", "</think>"), ("<reasoning>", "</reasoning>"), ("<|begin_of_thought|>", "<|end_of_thought|>")];
const CONTENT_PAIR: (&str, &str) = ("<|begin_of_solution|>", "<|end_of_solution|>");

/// Python's `text[start:end]` for byte positions found by `find` (empty when end < start).
fn slice(text: &str, start: usize, end: usize) -> &str {
    if end <= start {
        ""
    } else {
        &text[start..end]
    }
}

/// The split_thinking branch of `transform_message` for an assistant turn.
fn split_thinking(plan: &ChatPlan, turn: &mut Turn) -> Result<(), Fallback> {
    let content = turn.get("content").ok_or_else(|| fallback("KeyError: 'content'"))?;
    let content = match content {
        PyValue::Str(text) => text.to_string(),
        // `open in content and close in content`, then `content.find`: only a str has it.
        other => {
            for (open, close) in THINKING_PAIRS {
                if py_contains(other, open)? && py_contains(other, close)? {
                    return Err(fallback("AttributeError: split_thinking on content that is not a string"));
                }
            }
            return Ok(());
        }
    };
    for (open, close) in THINKING_PAIRS {
        let (Some(t_start), Some(t_end)) = (content.find(open), content.find(close)) else { continue };
        let thinking = slice(&content, t_start + open.len(), t_end);
        turn.insert(key(&plan.template_thinking_key), PyValue::str(pystr::strip(thinking, None)));
        let remainder = pystr::lstrip(&content[t_end + close.len()..], None);
        let new_content = match (remainder.find(CONTENT_PAIR.0), remainder.find(CONTENT_PAIR.1)) {
            (Some(c_start), Some(c_end)) => pystr::strip(slice(remainder, c_start + CONTENT_PAIR.0.len(), c_end), None),
            _ => remainder,
        };
        turn.insert(key("content"), PyValue::str(new_content));
        break;
    }
    Ok(())
}

/// `_convert_content_parts`: list content joined into one string, with per-part training
/// details when any part says `train` or `weight`; None when the value is not a list.
fn convert_content_parts(content: Option<&PyValue>) -> Result<Option<(String, Option<PyValue>)>, Fallback> {
    let Some(PyValue::List(parts)) = content else { return Ok(None) };
    let mut text = String::new();
    let mut details = Vec::new();
    let mut explicit = false;
    let mut offset: i64 = 0;
    for part in parts {
        let PyValue::Dict(part) = part else { continue };
        let piece = ["text", "content", "value"].iter().find_map(|k| part.get(*k).filter(|v| v.truthy()));
        let piece = match piece {
            None => "",
            Some(PyValue::Str(s)) => s,
            Some(_) => return Err(fallback("TypeError: a content part's text is not a string")),
        };
        let train_flag = part.get("train").filter(|v| !v.is_none());
        let weight = part.get("weight").filter(|v| !v.is_none());
        let train = match (train_flag, weight) {
            (None, None) => PyValue::Bool(true),
            (Some(t), _) => {
                explicit = true;
                t.clone()
            }
            (None, Some(w)) => {
                explicit = true;
                let zero = match w {
                    PyValue::Int(0) | PyValue::Bool(false) => true,
                    PyValue::Float(f) => *f == 0.0,
                    _ => false,
                };
                PyValue::Bool(!zero)
            }
        };
        text.push_str(piece);
        if !piece.is_empty() {
            let len = piece.chars().count() as i64;
            details.push(PyValue::Dict(IndexMap::from_iter([
                (key("begin_offset"), PyValue::Int(offset)),
                (key("end_offset"), PyValue::Int(offset + len - 1)),
                (key("train"), train),
            ])));
            offset += len;
        }
    }
    Ok(Some((text, explicit.then_some(PyValue::List(details)))))
}

/// `_get_tools`: a list (JSON strings parsed, each function's string `parameters` too), or
/// None.
fn tools(plan: &ChatPlan, row: &IndexMap<Arc<str>, PyValue>) -> Result<Option<PyValue>, Fallback> {
    let Some(value) = row.get(plan.field_tools.as_str()).filter(|v| !v.is_none()) else { return Ok(None) };
    let mut tools = match value {
        PyValue::Str(text) => from_json(text).map_err(|e| fallback(format!("tools: {}", e.0)))?,
        other => other.clone(),
    };
    let PyValue::List(items) = &mut tools else { return Err(fallback("ValueError: Unknown tools format")) };
    for tool in items.iter_mut() {
        let PyValue::Dict(tool) = tool else { continue };
        let Some(function) = tool.get_mut("function") else { continue };
        if !py_contains(function, "parameters")? {
            continue;
        }
        let parameters = py_item_mut(function, "parameters")?;
        if let PyValue::Str(text) = parameters {
            *parameters = from_json(text).map_err(|e| fallback(format!("tool parameters: {}", e.0)))?;
        }
    }
    // transformers renders with tools only when they are truthy, and then takes only dicts
    // (JSON schemas) or Python functions.
    if items.iter().any(|tool| !matches!(tool, PyValue::Dict(_))) {
        return Err(fallback(
            "ValueError: Tools should either be a JSON schema, or a callable function with type hints and a docstring suitable for auto-conversion to a schema.",
        ));
    }
    Ok(Some(tools))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_parts_give_inclusive_code_point_details() {
        let part = |t: &str, train: bool| {
            PyValue::Dict(IndexMap::from_iter([(key("text"), PyValue::str(t)), (key("train"), PyValue::Bool(train))]))
        };
        let parts = PyValue::List(vec![part("é1", false), part("", true), part("xyz", true)]);
        let (text, details) = convert_content_parts(Some(&parts)).unwrap().unwrap();
        assert_eq!(text, "é1xyz");
        let PyValue::List(details) = details.unwrap() else { panic!() };
        assert_eq!(details.len(), 2);
        assert_eq!(details[1].get("begin_offset"), Some(&PyValue::Int(2)));
        assert_eq!(details[1].get("end_offset"), Some(&PyValue::Int(4)));
    }
}
