//! Axolotl 0.19.0's instruction strategies for one row: `InstructionPromptTokenizingStrategy`
//! (`alpaca`, `alpaca_chat`, `alpaca_instruct`, `gpteacher`, `jeopardy`, `oasst`, ...) and
//! `InstructionWSystemPromptTokenizingStrategy` (`alpaca_w_system.*`, `user_defined`,
//! `orcamini`). The row's fields become the prompter's arguments (`parse_instruction_fields`,
//! stated per strategy as `Expr`s), the prompter renders the user prompt (`Part`s: its
//! `str.format` templates, split by Python), then prompt and response are tokenized apart
//! (`PromptTokenizingStrategy._tokenize`) and concatenated. Anything Python would compute
//! differently or fail on is a `Fallback`: the row then runs Axolotl's code.

use std::borrow::Cow;
use std::sync::Arc;

use indexmap::IndexMap;
use serde::Deserialize;

use super::encoder::{Encoder, TruncationSide};
use super::pyrepr::float_repr;
use super::pyvalue::PyValue;
use super::{Fallback, Tokenized, IGNORE_INDEX};
use crate::error::{Error, Result};

pub type Row = IndexMap<Arc<str>, PyValue>;

/// The `instruct` strategy's settings, as Python read them off Axolotl's strategy object.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InstructPlan {
    /// `parse_instruction_fields`: how the row gives each prompter argument.
    pub instruction: Expr,
    pub input: Expr,
    pub response: Expr,
    /// Only for the strategies with a system argument.
    #[serde(default)]
    pub system: Option<Expr>,
    /// The user prompt when `input` is truthy, and when it is not.
    pub prompt_with_input: Vec<Part>,
    pub prompt_without_input: Vec<Part>,
    pub tokenize: TokenizeRule,
    pub train_on_inputs: bool,
}

/// A prompter argument read from the row, as Python evaluates the expression.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Expr {
    /// A constant string.
    Text(String),
    /// `prompt[field]` (a KeyError when the column is absent).
    Field(String),
    /// `prompt[field] if field in prompt else default`.
    FieldOr { field: String, default: Box<Expr> },
    /// `a + b + ...`, every operand a str (else a TypeError).
    Concat(Vec<Expr>),
    /// `"\n".join(f'- "{choice}"' for choice in prompt[field])`.
    Choices(String),
}

/// A piece of the user prompt.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Part {
    Text(String),
    /// `{name}` in a format string: `format(value, "")`, which is `str(value)`.
    Arg(Slot),
    /// `parts if arg else ""` (the system block of `build_prompt_w_system`).
    IfTruthy {
        arg: Slot,
        parts: Vec<Part>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Slot {
    Instruction,
    Input,
    System,
}

/// `PromptTokenizingStrategy._tokenize`'s settings: `tokenizer(text, truncation=True,
/// max_length=max_length)` (special tokens added), then EOS appended / BOS stripped.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenizeRule {
    pub max_length: usize,
    pub truncation_side: TruncationSide,
    pub bos_token_id: Option<u32>,
    pub eos_token_id: u32,
}

/// `_tokenize(text, add_eos_token, strip_bos_token)["input_ids"]`.
pub fn tokenize_text(
    encoder: &dyn Encoder,
    rule: &TokenizeRule,
    text: &str,
    add_eos: bool,
    strip_bos: bool,
) -> std::result::Result<Vec<i64>, Fallback> {
    if text.is_empty() {
        return Ok(Vec::new());
    }
    let ids =
        encoder.encode_truncated(text, rule.max_length, rule.truncation_side).map_err(|e| Fallback(e.to_string()))?;
    let Some(&first) = ids.first() else {
        return Ok(Vec::new());
    };
    // Python appends the EOS, then strips the BOS: the first id is the same before and
    // after the append, so both are decided up front and the ids copied once.
    let eos = i64::from(rule.eos_token_id);
    let append = add_eos && ids.last().map(|&id| i64::from(id)) != Some(eos) && ids.len() < rule.max_length;
    let skip = usize::from(strip_bos && rule.bos_token_id == Some(first));
    let mut out = Vec::with_capacity(ids.len() + 1 - skip);
    out.extend(ids[skip..].iter().map(|&id| i64::from(id)));
    if append {
        out.push(eos);
    }
    Ok(out)
}

/// An evaluated prompter argument: a row value, or a string the expression built.
enum Arg<'a> {
    Value(&'a PyValue),
    Text(Cow<'a, str>),
}

impl Arg<'_> {
    fn as_str(&self) -> Option<&str> {
        match self {
            Arg::Value(v) => v.as_str(),
            Arg::Text(t) => Some(t),
        }
    }

    /// Python truthiness, for the values whose truthiness Rust sees as Python does (a dict
    /// read from Arrow lost its None entries, so containers are not modelled).
    fn truthy(&self) -> std::result::Result<bool, Fallback> {
        match self {
            Arg::Value(v) if is_scalar(v) => Ok(v.truthy()),
            Arg::Value(_) => Err(Fallback("a list or dict where the prompter expects text".into())),
            Arg::Text(t) => Ok(!t.is_empty()),
        }
    }

    /// `format(value, "")` appended to `out`.
    fn write(&self, out: &mut String) -> std::result::Result<(), Fallback> {
        match self {
            Arg::Value(v) => write_str(out, v),
            Arg::Text(t) => {
                out.push_str(t);
                Ok(())
            }
        }
    }
}

fn is_scalar(value: &PyValue) -> bool {
    !matches!(value, PyValue::List(_) | PyValue::Dict(_))
}

/// `str(value)` of a scalar appended to `out`.
fn write_str(out: &mut String, value: &PyValue) -> std::result::Result<(), Fallback> {
    match value {
        PyValue::Str(s) => out.push_str(s),
        PyValue::None => out.push_str("None"),
        PyValue::Bool(b) => out.push_str(if *b { "True" } else { "False" }),
        PyValue::Int(i) => out.push_str(&i.to_string()),
        PyValue::Float(f) => out.push_str(&float_repr(*f)),
        PyValue::List(_) | PyValue::Dict(_) => return Err(Fallback("a list or dict formatted into the prompt".into())),
    }
    Ok(())
}

fn missing(field: &str) -> Fallback {
    Fallback(format!("no {field:?} column (Axolotl raises KeyError)"))
}

impl Expr {
    fn eval<'a>(&'a self, row: &'a Row) -> std::result::Result<Arg<'a>, Fallback> {
        Ok(match self {
            Expr::Text(text) => Arg::Text(Cow::Borrowed(text)),
            Expr::Field(field) => Arg::Value(row.get(field.as_str()).ok_or_else(|| missing(field))?),
            Expr::FieldOr { field, default } => match row.get(field.as_str()) {
                Some(value) => Arg::Value(value),
                None => default.eval(row)?,
            },
            Expr::Concat(operands) => {
                let mut text = String::new();
                for operand in operands {
                    let value = operand.eval(row)?;
                    let piece = value
                        .as_str()
                        .ok_or_else(|| Fallback("str + a non-str value (Axolotl raises TypeError)".into()))?;
                    text.push_str(piece);
                }
                Arg::Text(Cow::Owned(text))
            }
            Expr::Choices(field) => {
                Arg::Text(Cow::Owned(choices(row.get(field.as_str()).ok_or_else(|| missing(field))?)?))
            }
        })
    }

    /// The columns the expression reads.
    fn fields<'a>(&'a self, out: &mut Vec<&'a str>) {
        match self {
            Expr::Text(_) => {}
            Expr::Field(field) | Expr::Choices(field) => out.push(field),
            Expr::FieldOr { field, default } => {
                out.push(field);
                default.fields(out);
            }
            Expr::Concat(operands) => operands.iter().for_each(|e| e.fields(out)),
        }
    }
}

/// `"\n".join(f'- "{choice}"' for choice in value)`: a list's items, or a string's characters.
fn choices(value: &PyValue) -> std::result::Result<String, Fallback> {
    // Every item writes at least `- ""`, so a non-empty output means an item came before.
    fn open(out: &mut String) {
        if !out.is_empty() {
            out.push('\n');
        }
        out.push_str("- \"");
    }
    let mut out = String::new();
    match value {
        PyValue::List(items) => {
            for choice in items {
                open(&mut out);
                write_str(&mut out, choice)?;
                out.push('"');
            }
        }
        PyValue::Str(text) => {
            for c in text.chars() {
                open(&mut out);
                out.push(c);
                out.push('"');
            }
        }
        _ => return Err(Fallback("choices that are not a list or a string".into())),
    }
    Ok(out)
}

/// The prompter's arguments for one row.
struct Args<'a> {
    instruction: Arg<'a>,
    input: Arg<'a>,
    system: Option<Arg<'a>>,
}

impl<'a> Args<'a> {
    fn get(&self, slot: Slot) -> &Arg<'a> {
        match slot {
            Slot::Instruction => &self.instruction,
            Slot::Input => &self.input,
            // InstructStrategy::new checks that a plan naming the system has one.
            Slot::System => self.system.as_ref().expect("plan checked: a system expression"),
        }
    }
}

fn render(parts: &[Part], args: &Args, out: &mut String) -> std::result::Result<(), Fallback> {
    for part in parts {
        match part {
            Part::Text(text) => out.push_str(text),
            Part::Arg(slot) => args.get(*slot).write(out)?,
            Part::IfTruthy { arg, parts } => {
                if args.get(*arg).truthy()? {
                    render(parts, args, out)?;
                }
            }
        }
    }
    Ok(())
}

fn names_system(parts: &[Part]) -> bool {
    parts.iter().any(|part| match part {
        Part::Text(_) => false,
        Part::Arg(slot) => *slot == Slot::System,
        Part::IfTruthy { arg, parts } => *arg == Slot::System || names_system(parts),
    })
}

pub struct InstructStrategy {
    plan: InstructPlan,
    encoder: Arc<dyn Encoder>,
    columns: Vec<String>,
}

impl InstructStrategy {
    pub fn new(plan: InstructPlan, encoder: Arc<dyn Encoder>) -> Result<Self> {
        let names = names_system(&plan.prompt_with_input) || names_system(&plan.prompt_without_input);
        if names && plan.system.is_none() {
            return Err(Error::invalid("instruct plan: the prompt names the system but no system expression is given"));
        }
        let mut fields = Vec::new();
        for expr in [&plan.instruction, &plan.input, &plan.response].into_iter().chain(plan.system.as_ref()) {
            expr.fields(&mut fields);
        }
        let mut columns: Vec<String> = Vec::new();
        for field in fields {
            if !columns.iter().any(|c| c == field) {
                columns.push(field.to_string());
            }
        }
        Ok(InstructStrategy { plan, encoder, columns })
    }

    /// The columns a row reads.
    pub fn columns(&self) -> Vec<&str> {
        self.columns.iter().map(String::as_str).collect()
    }

    /// `tokenize_prompt(row)`.
    pub fn tokenize(&self, row: &Row) -> std::result::Result<Tokenized, Fallback> {
        let plan = &self.plan;
        let args = Args {
            instruction: plan.instruction.eval(row)?,
            input: plan.input.eval(row)?,
            system: plan.system.as_ref().map(|e| e.eval(row)).transpose()?,
        };
        let response = plan.response.eval(row)?;
        let parts = if args.input.truthy()? { &plan.prompt_with_input } else { &plan.prompt_without_input };
        let mut prompt = String::new();
        render(parts, &args, &mut prompt)?;

        let rule = &plan.tokenize;
        let prompt_ids = tokenize_text(&*self.encoder, rule, &prompt, false, false)?;
        // `_tokenize(response)`: a falsy response is no tokens; any other non-str is not text.
        let response_ids = if response.truthy()? {
            let text = response.as_str().ok_or_else(|| Fallback("a response that is not a string".into()))?;
            tokenize_text(&*self.encoder, rule, text, true, true)?
        } else {
            Vec::new()
        };
        let mut labels = Vec::with_capacity(prompt_ids.len() + response_ids.len());
        if plan.train_on_inputs {
            labels.extend_from_slice(&prompt_ids);
        } else {
            labels.resize(prompt_ids.len(), IGNORE_INDEX);
        }
        labels.extend_from_slice(&response_ids);
        let mut input_ids = prompt_ids;
        input_ids.extend_from_slice(&response_ids);
        Ok(Tokenized { input_ids, labels })
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::tokenize::Encoded;

    /// One id per character (its code point), BOS 1 added with special tokens, EOS 2.
    pub struct CharEncoder {
        pub bos: bool,
    }

    impl Encoder for CharEncoder {
        fn encode(&self, text: &str, add_special_tokens: bool) -> Result<Vec<u32>> {
            let mut ids: Vec<u32> = if add_special_tokens && self.bos { vec![1] } else { vec![] };
            ids.extend(text.chars().map(|c| c as u32));
            Ok(ids)
        }
        fn encode_with_offsets(&self, text: &str, add_special_tokens: bool) -> Result<Encoded> {
            Ok(Encoded { ids: self.encode(text, add_special_tokens)?, offsets: vec![] })
        }
        fn encode_truncated(&self, text: &str, max_length: usize, side: TruncationSide) -> Result<Vec<u32>> {
            let added = usize::from(self.bos);
            let mut ids: Vec<u32> = text.chars().map(|c| c as u32).collect();
            let room = max_length - added;
            if ids.len() > room {
                ids = match side {
                    TruncationSide::Right => ids[..room].to_vec(),
                    TruncationSide::Left => ids[ids.len() - room..].to_vec(),
                };
            }
            if self.bos {
                ids.insert(0, 1);
            }
            Ok(ids)
        }
    }

    pub fn rule(max_length: usize) -> TokenizeRule {
        TokenizeRule { max_length, truncation_side: TruncationSide::Right, bos_token_id: Some(1), eos_token_id: 2 }
    }

    fn row(pairs: &[(&str, PyValue)]) -> Row {
        pairs.iter().map(|(k, v)| (Arc::from(*k), v.clone())).collect()
    }

    fn alpaca(train_on_inputs: bool, max_length: usize, bos: bool) -> InstructStrategy {
        let plan: InstructPlan = serde_json::from_str(&format!(
            r#"{{
                "instruction": {{"field": "instruction"}},
                "input": {{"field_or": {{"field": "input", "default": {{"text": ""}}}}}},
                "response": {{"field": "output"}},
                "prompt_with_input": [{{"text": "I:"}}, {{"arg": "instruction"}}, {{"text": "|"}}, {{"arg": "input"}}, {{"text": ">"}}],
                "prompt_without_input": [{{"text": "I:"}}, {{"arg": "instruction"}}, {{"text": ">"}}],
                "tokenize": {{"max_length": {max_length}, "truncation_side": "right", "bos_token_id": 1, "eos_token_id": 2}},
                "train_on_inputs": {train_on_inputs}
            }}"#
        ))
        .unwrap();
        InstructStrategy::new(plan, Arc::new(CharEncoder { bos })).unwrap()
    }

    fn ids(text: &str) -> Vec<i64> {
        text.chars().map(|c| c as i64).collect()
    }

    #[test]
    fn prompt_masked_response_trained_with_eos_and_without_bos() {
        let s = alpaca(false, 100, true);
        let out = s.tokenize(&row(&[("instruction", PyValue::str("ab")), ("output", PyValue::str("xy"))])).unwrap();
        let prompt = [vec![1], ids("I:ab>")].concat();
        assert_eq!(out.input_ids, [prompt.clone(), ids("xy"), vec![2]].concat());
        assert_eq!(out.labels, [vec![IGNORE_INDEX; prompt.len()], ids("xy"), vec![2]].concat());
    }

    #[test]
    fn input_none_is_falsy_and_instruction_none_prints() {
        let s = alpaca(true, 100, false);
        let r = row(&[("instruction", PyValue::None), ("input", PyValue::None), ("output", PyValue::None)]);
        let out = s.tokenize(&r).unwrap();
        assert_eq!(out.input_ids, ids("I:None>"));
        assert_eq!(out.labels, out.input_ids);
        let r = row(&[("instruction", PyValue::Int(3)), ("input", PyValue::Float(1e16)), ("output", PyValue::str(""))]);
        assert_eq!(s.tokenize(&r).unwrap().input_ids, ids("I:3|1e+16>"));
    }

    #[test]
    fn each_part_truncates_alone_and_eos_needs_room() {
        let s = alpaca(false, 4, true);
        let out =
            s.tokenize(&row(&[("instruction", PyValue::str("abcdef")), ("output", PyValue::str("xyz"))])).unwrap();
        // prompt: BOS + 3 chars; response: BOS stripped after no room for EOS
        assert_eq!(out.input_ids, [vec![1], ids("I:a"), ids("xyz")].concat());
        let out = s.tokenize(&row(&[("instruction", PyValue::str("a")), ("output", PyValue::str("xy"))])).unwrap();
        assert_eq!(&out.input_ids[out.input_ids.len() - 3..], &[ids("xy"), vec![2]].concat()[..]);
    }

    #[test]
    fn a_lone_bos_becomes_the_eos() {
        let encoder = CharEncoder { bos: true };
        let rule = rule(10);
        assert_eq!(tokenize_text(&encoder, &rule, "\u{1}", true, true).unwrap(), vec![1, 2]);
        // "\u{1}" is id 1, the BOS: with no BOS added by the tokenizer it is the first id
        assert_eq!(tokenize_text(&CharEncoder { bos: false }, &rule, "\u{1}", true, true).unwrap(), vec![2]);
        assert_eq!(tokenize_text(&encoder, &rule, "", true, true).unwrap(), Vec::<i64>::new());
    }

    #[test]
    fn missing_columns_and_non_text_fall_back() {
        let s = alpaca(false, 100, true);
        assert!(s.tokenize(&row(&[("instruction", PyValue::str("a"))])).is_err());
        let r = row(&[("instruction", PyValue::str("a")), ("output", PyValue::Int(5))]);
        assert!(s.tokenize(&r).is_err());
        let r = row(&[("instruction", PyValue::List(vec![])), ("output", PyValue::str("x"))]);
        assert!(s.tokenize(&r).is_err());
        assert_eq!(s.columns(), ["instruction", "input", "output"]);
    }

    #[test]
    fn choices_and_concat_follow_python() {
        let list = PyValue::List(vec![PyValue::str("a"), PyValue::None, PyValue::Int(1)]);
        assert_eq!(choices(&list).unwrap(), "- \"a\"\n- \"None\"\n- \"1\"");
        assert_eq!(choices(&PyValue::str("xy")).unwrap(), "- \"x\"\n- \"y\"");
        assert_eq!(choices(&PyValue::List(vec![])).unwrap(), "");
        assert!(choices(&PyValue::None).is_err());
        let concat = Expr::Concat(vec![Expr::Text("what is ".into()), Expr::Field("answer".into())]);
        let r = row(&[("answer", PyValue::str("x"))]);
        assert_eq!(concat.eval(&r).unwrap().as_str(), Some("what is x"));
        assert!(concat.eval(&row(&[("answer", PyValue::None)])).is_err());
    }
}
