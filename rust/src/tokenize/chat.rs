//! Axolotl 0.19.0's `chat_template` strategy (`ChatTemplateStrategy._tokenize_single_prompt`)
//! for one row: the conversation rendered once and tokenized once with offsets, each
//! processed turn located by diffing the render against two renders with a sentinel in
//! place of the turn, labels and EOS/EOT tokens set as Axolotl sets them. Anything Axolotl
//! would compute differently or fail on is a `Fallback`: the row then runs Axolotl's code.

use std::sync::Arc;

use indexmap::IndexMap;
use minijinja::Value;

use super::conversation::{Conversation, Turn, TurnExt};
use super::encoder::Encoder;
use super::plan::ChatPlan;
use super::pyvalue::PyValue;
use super::template::ChatTemplate;
use super::{Fallback, Tokenized, IGNORE_INDEX};

/// Sentinels with disjoint first and last characters (Axolotl's `_SENTINELS`).
const SENTINELS: [&str; 2] = ["[[dummy_message]]", "zzdummymessagezz"];

pub struct ChatStrategy {
    plan: ChatPlan,
    template: ChatTemplate,
    encoder: Arc<dyn Encoder>,
    /// The render's keyword arguments that are the same for every row (special tokens and
    /// chat_template_kwargs, merged as transformers merges them).
    base_context: Vec<(String, Value)>,
    eot_ids: Vec<u32>,
}

/// A row's render without offsets mapped back: the text and its tokens' code-point spans.
struct Locator {
    text: String,
    starts: Vec<usize>,
    ends: Vec<usize>,
}

#[derive(Clone, Copy, PartialEq)]
enum Focus {
    Turn,
    ContentOnly,
    ReasoningOnly,
}

impl ChatStrategy {
    pub fn new(plan: ChatPlan, encoder: Arc<dyn Encoder>) -> crate::Result<Self> {
        let template = ChatTemplate::with_options(&plan.chat_template, plan.template_options()?)?;
        let base_context = plan.render_kwargs()?;
        let eot_ids = plan.eot_token_ids.clone();
        Ok(ChatStrategy { plan, template, encoder, base_context, eot_ids })
    }

    pub fn plan(&self) -> &ChatPlan {
        &self.plan
    }

    /// `_tokenize_single_prompt` for a row already read into Python values.
    pub fn tokenize(&self, row: &IndexMap<Arc<str>, PyValue>) -> Result<Tokenized, Fallback> {
        let conversation = Conversation::from_row(&self.plan, row)?;
        let turns = &conversation.turns;
        let turn_values: Vec<Value> = turns.iter().map(Turn::to_jinja).collect();
        let tools = conversation.tools.as_ref().map_or(Value::from(()), PyValue::to_jinja);

        let text = self.render(&turn_values, &tools, None)?;
        let encoded = self.encoder.encode_with_offsets(&text, false).map_err(|e| Fallback(e.to_string()))?;
        let ids = encoded.ids;
        let locator = (!text.is_empty()).then(|| Locator {
            starts: encoded.offsets.iter().map(|o| o.0).collect(),
            ends: encoded.offsets.iter().map(|o| o.1).collect(),
            text,
        });
        let mut labels = vec![IGNORE_INDEX; ids.len()];
        let mut last_eos: isize = -1;
        let mut last_eot: isize = -1;
        let (eos_option, eot_option) = (self.plan.train_on_eos.as_deref(), self.plan.train_on_eot.as_deref());

        for (index, turn) in turns.iter().enumerate() {
            let should_train = self.should_train(turn);
            if !should_train && eos_option != Some("all") && eot_option != Some("all") {
                continue;
            }
            let thinking = self.plan.template_thinking_key.as_str();
            let has_reasoning = turn.get(thinking).is_some_and(|v| !v.is_none());
            let detail = turn.get("training_detail");
            let reasoning_detail = turn.get("reasoning_training_detail");
            let has_any_detail = detail.is_some_and(PyValue::truthy) || reasoning_detail.is_some_and(PyValue::truthy);
            let focus = if has_any_detail && has_reasoning { Focus::ContentOnly } else { Focus::Turn };
            let (start, end) = self.find_turn(turns, &turn_values, &tools, index, focus, locator.as_ref())?;

            if should_train && start != -1 && end != -1 {
                if let Some(detail) = detail.filter(|d| d.truthy()) {
                    let content = turn.get("content").and_then(PyValue::as_str).ok_or_else(|| {
                        Fallback("`train_detail` is not supported when `content` is not a string.".into())
                    })?;
                    let trained = self.train_detail_tokens(content, detail)?;
                    mark(&mut labels, &ids, start as usize, &trained);
                } else if !reasoning_detail.is_some_and(PyValue::truthy) {
                    let (s, e) = (start as usize, (end as usize).min(ids.len()));
                    for i in s..e.max(s) {
                        labels[i] = ids[i] as i64;
                    }
                }
            }
            if let Some(reasoning_detail) = reasoning_detail.filter(|d| d.truthy()) {
                if should_train && has_reasoning {
                    let text = turn.get(thinking).and_then(PyValue::as_str).ok_or_else(|| {
                        Fallback(
                            "`reasoning_training_detail` is not supported when reasoning_content is not a string."
                                .into(),
                        )
                    })?;
                    let (rs, re) =
                        self.find_turn(turns, &turn_values, &tools, index, Focus::ReasoningOnly, locator.as_ref())?;
                    if rs != -1 && re != -1 {
                        let trained = self.train_detail_tokens(text, reasoning_detail)?;
                        mark(&mut labels, &ids, rs as usize, &trained);
                    }
                }
            }
            let eot_ids = &self.eot_ids;
            let eos = self.plan.eos_token_id;
            for (is_eot, option) in [(true, eot_option), (false, eos_option)] {
                let found = if is_eot {
                    find_first(&ids, end, |id| eot_ids.contains(&id))?
                } else {
                    find_first(&ids, end, |id| Some(id) == eos)?
                };
                if found != -1 && (found - end).abs() <= 3 {
                    if is_eot {
                        last_eot = found;
                    } else {
                        last_eos = found;
                    }
                    if option == Some("all") || (option == Some("turn") && should_train) {
                        labels[found as usize] = ids[found as usize] as i64;
                    }
                }
            }
        }
        for (last, option) in [(last_eot, eot_option), (last_eos, eos_option)] {
            if option == Some("last") && last != -1 {
                labels[last as usize] = ids[last as usize] as i64;
            }
        }
        Ok(Tokenized { input_ids: ids.iter().map(|&i| i as i64).collect(), labels })
    }

    fn should_train(&self, turn: &Turn) -> bool {
        if let Some(training) = turn.get("training").filter(|v| !v.is_none()) {
            return training.truthy();
        }
        let detail = turn.get("training_detail").filter(|v| !v.is_none());
        let reasoning = turn.get("reasoning_training_detail").filter(|v| !v.is_none());
        if detail.is_some() || reasoning.is_some() {
            return detail.is_some_and(PyValue::truthy) || reasoning.is_some_and(PyValue::truthy);
        }
        self.plan.train_on_inputs
            || turn
                .get("role")
                .and_then(PyValue::as_str)
                .is_some_and(|r| self.plan.roles_to_train.iter().any(|t| t == r))
    }

    /// `find_turn`: the token span of turn `index` (or of its content / reasoning alone),
    /// `(-1, -1)` when it cannot be found.
    fn find_turn(
        &self,
        turns: &[Turn],
        values: &[Value],
        tools: &Value,
        index: usize,
        focus: Focus,
        locator: Option<&Locator>,
    ) -> Result<(isize, isize), Fallback> {
        let first_is_system = turns[0].get("role").and_then(PyValue::as_str) == Some("system");
        if index == 0 && first_is_system && self.plan.skip_leading_system_turn {
            return Ok((-1, -1));
        }
        let mut span = None;
        if let Some(locator) = locator {
            span = self.find_turn_from_text(turns, values, tools, index, focus, locator)?;
        }
        if span.is_none() {
            let dummy = dummy_turn(&turns[index], focus, SENTINELS[0], &self.plan.template_thinking_key);
            span = self.find_turn_from_tokens(values, tools, index, dummy)?;
        }
        Ok(match span {
            Some((start, end)) if start != -1 && end != -1 && end > start => (start, end),
            _ => (-1, -1),
        })
    }

    fn find_turn_from_text(
        &self,
        turns: &[Turn],
        values: &[Value],
        tools: &Value,
        index: usize,
        focus: Focus,
        locator: &Locator,
    ) -> Result<Option<(isize, isize)>, Fallback> {
        let mut char_start = usize::MAX;
        let mut char_end = 0;
        for sentinel in SENTINELS {
            let dummy = dummy_turn(&turns[index], focus, sentinel, &self.plan.template_thinking_key);
            let mut messages = values.to_vec();
            messages[index] = dummy;
            let dummy_text = self.render(&messages, tools, None)?;
            if dummy_text.is_empty() {
                return Ok(None);
            }
            let (start, end) = diff_char_span(&locator.text, &dummy_text);
            char_start = char_start.min(start);
            char_end = char_end.max(end);
        }
        if char_end <= char_start {
            return Ok(Some((-1, -1)));
        }
        let start = bisect_right(&locator.ends, char_start);
        let end = bisect_left(&locator.starts, char_end);
        if start >= locator.ends.len() || end > locator.ends.len() {
            return Ok(None);
        }
        Ok(Some((start as isize, end as isize)))
    }

    /// `_find_turn_from_tokens`: renders and tokenizes the conversation up to the turn with
    /// the turn and with a dummy in its place; the span is where the two token lists differ.
    fn find_turn_from_tokens(
        &self,
        values: &[Value],
        tools: &Value,
        index: usize,
        dummy: Value,
    ) -> Result<Option<(isize, isize)>, Fallback> {
        let real_last_index = values.len() - 1;
        let mut dummy_messages = values[..index].to_vec();
        dummy_messages.push(dummy);
        let dummy_ids = self.render_ids(&dummy_messages, tools, real_last_index)?;
        let full_ids = self.render_ids(&values[..=index], tools, real_last_index)?;
        if full_ids.is_empty() || dummy_ids.is_empty() {
            return Ok(None);
        }
        let min_len = dummy_ids.len().min(full_ids.len());
        let Some(start) = (0..min_len).find(|&i| dummy_ids[i] != full_ids[i]) else { return Ok(None) };
        let back = (0..min_len).find(|&i| dummy_ids[dummy_ids.len() - 1 - i] != full_ids[full_ids.len() - 1 - i]);
        let Some(back) = back else { return Ok(None) };
        Ok(Some((start as isize, (full_ids.len() - back) as isize)))
    }

    fn render_ids(&self, messages: &[Value], tools: &Value, real_last_index: usize) -> Result<Vec<u32>, Fallback> {
        // `if real_last_index:` — 0 is not passed.
        let text = self.render(messages, tools, (real_last_index > 0).then_some(real_last_index))?;
        self.encoder.encode(&text, false).map_err(|e| Fallback(e.to_string()))
    }

    /// `apply_chat_template(..., add_generation_prompt=False, tools=tools if tools)`.
    fn render(&self, messages: &[Value], tools: &Value, real_last_index: Option<usize>) -> Result<String, Fallback> {
        if messages.is_empty() {
            // transformers' apply_chat_template refuses an empty conversation (a system-only
            // conversation with drop_system_message, say).
            return Err(Fallback(
                "ValueError: Cannot apply chat template to an empty conversation. Provide at least one message.".into(),
            ));
        }
        let mut context: IndexMap<String, Value> = IndexMap::with_capacity(self.base_context.len() + 5);
        context.insert("messages".into(), Value::from(messages.to_vec()));
        // `if tools:` in build_prompt: an empty list is not passed, so the template sees None.
        let tools = if tools.is_true() { tools.clone() } else { Value::from(()) };
        context.insert("tools".into(), tools);
        context.insert("documents".into(), Value::from(()));
        context.insert("add_generation_prompt".into(), Value::from(self.plan.add_generation_prompt));
        for (key, value) in &self.base_context {
            context.insert(key.clone(), value.clone());
        }
        if let Some(last) = real_last_index {
            context.insert("real_last_index".into(), Value::from(last));
        }
        let context = Value::from_pairs(context.into_iter().map(|(k, v)| (Value::from(k), v)));
        self.template.render(&context).map_err(|e| Fallback(format!("template: {e}")))
    }

    /// `get_offsets_for_train_detail`: which tokens of `text`, tokenized alone, lie wholly
    /// inside a trained detail (after the details are snapped to token edges).
    fn train_detail_tokens(&self, text: &str, details: &PyValue) -> Result<Vec<bool>, Fallback> {
        let encoded = self.encoder.encode_with_offsets(text, false).map_err(|e| Fallback(e.to_string()))?;
        let n = encoded.offsets.len();
        if n == 0 {
            return Err(Fallback("IndexError: the train detail's text has no tokens".into()));
        }
        let text_len = text.chars().count() as i64;
        let mut offsets: Vec<(i64, i64)> = encoded.offsets.iter().map(|o| (o.0 as i64, o.1 as i64)).collect();
        for i in 0..n - 1 {
            offsets[i].1 = offsets[i + 1].0 - 1;
        }
        offsets[n - 1].1 = text_len - 1;
        let details = parse_details(details)?;
        let mut adjusted: Vec<(i64, i64, bool)> = Vec::with_capacity(details.len());
        for detail in &details {
            adjusted.extend(adjust_detail(detail, &offsets)?);
        }
        Ok(offsets
            .iter()
            .map(|&(start, end)| {
                // Python keeps the last detail's verdict for a token only if it sets it;
                // a later non-trained detail never unsets an earlier trained one.
                adjusted.iter().any(|&(b, e, train)| start >= b && end <= e && train)
            })
            .collect())
    }
}

/// `labels[start + i] = ids[start + i]` for every trained token `i` that is in range.
fn mark(labels: &mut [i64], ids: &[u32], start: usize, trained: &[bool]) {
    for (i, _) in trained.iter().enumerate().filter(|(_, &t)| t) {
        if let Some(label) = labels.get_mut(start + i) {
            *label = ids[start + i] as i64;
        }
    }
}

/// A detail dict: begin and end offsets (numbers: Python compares ints, floats and bools
/// alike with the token offsets) and whether it trains (truthiness; None when the dict has no
/// `train`, which Python reads only for a detail that covers a token).
fn parse_details(details: &PyValue) -> Result<Vec<(f64, f64, Option<bool>)>, Fallback> {
    let PyValue::List(items) = details else { return Err(Fallback("training_detail is not a list".into())) };
    items
        .iter()
        .map(|d| {
            let PyValue::Dict(d) = d else {
                return Err(Fallback("TypeError: a training_detail entry is not a dict".into()));
            };
            let number = |key: &str| match d.get(key) {
                Some(PyValue::Int(v)) => Ok(*v as f64),
                Some(PyValue::Float(v)) => Ok(*v),
                Some(PyValue::Bool(v)) => Ok(f64::from(u8::from(*v))),
                Some(_) => Err(Fallback(format!("TypeError: a training_detail {key} that is not a number"))),
                None => Err(Fallback(format!("KeyError: '{key}' in a training_detail entry"))),
            };
            Ok((number("begin_offset")?, number("end_offset")?, d.get("train").map(PyValue::truthy)))
        })
        .collect()
}

/// `adjust_train_details` for one detail: its offsets moved to token edges, or None when it
/// covers no token.
fn adjust_detail(
    &(begin, end, train): &(f64, f64, Option<bool>),
    offsets: &[(i64, i64)],
) -> Result<Option<(i64, i64, bool)>, Fallback> {
    let n = offsets.len();
    let mut begin_token = offsets.iter().position(|&(s, _)| s as f64 >= begin).unwrap_or(n);
    if begin_token > 0 && offsets[begin_token - 1].1 as f64 > begin {
        begin_token -= 1;
    }
    let mut end_token: isize = (0..n).rev().find(|&i| offsets[i].1 as f64 <= end).map_or(-1, |i| i as isize);
    if end_token < n as isize - 1 && (offsets[(end_token + 1) as usize].0 as f64) < end {
        end_token += 1;
    }
    if begin_token as isize > end_token {
        return Ok(None);
    }
    let train = train.ok_or_else(|| Fallback("KeyError: 'train' in a training_detail entry".into()))?;
    Ok(Some((offsets[begin_token].0, offsets[end_token as usize].1, train)))
}

/// `_build_dummy_turn`: only the role and the sentinel (plus the reasoning, or the content,
/// that the diff must not see change); every other key is dropped.
fn dummy_turn(turn: &Turn, focus: Focus, sentinel: &str, thinking_key: &str) -> Value {
    let role = turn.get("role").cloned().unwrap_or(PyValue::None);
    let mut dummy: Vec<(&str, PyValue)> = vec![("role", role)];
    match focus {
        Focus::ReasoningOnly => {
            dummy.push(("content", turn.get("content").cloned().unwrap_or_else(|| PyValue::str(""))));
            if turn.contains_key(thinking_key) {
                dummy.push((thinking_key, PyValue::str(sentinel)));
            }
        }
        Focus::Turn | Focus::ContentOnly => {
            dummy.push(("content", PyValue::str(sentinel)));
            if focus == Focus::ContentOnly {
                if let Some(thinking) = turn.get(thinking_key) {
                    dummy.push((thinking_key, thinking.clone()));
                }
            }
        }
    }
    Value::from_pairs(dummy.into_iter().map(|(k, v)| (Value::from(k), v.to_jinja())))
}

/// `for i in range(start, len(ids)): if found(ids[i]): return i`, with Python's `ids[-1]`
/// for a start of -1 (a turn not found): a match there returns -1, "not found".
fn find_first(ids: &[u32], start: isize, found: impl Fn(u32) -> bool) -> Result<isize, Fallback> {
    let n = ids.len() as isize;
    if start < 0 && n == 0 {
        return Err(Fallback("IndexError: list index out of range (empty input_ids)".into()));
    }
    let mut i = start;
    while i < n {
        let at = if i < 0 { (n + i) as usize } else { i as usize };
        if found(ids[at]) {
            return Ok(i);
        }
        i += 1;
    }
    Ok(-1)
}

/// `_diff_char_span`: the code-point span of `full` that differs from `dummy`; the suffix
/// match is bounded by what the prefix match left.
pub fn diff_char_span(full: &str, dummy: &str) -> (usize, usize) {
    let full_chars = full.chars().count();
    let limit = full_chars.min(dummy.chars().count());
    let (prefix_bytes, prefix_chars) = common_prefix(full, dummy);
    let prefix = prefix_chars.min(limit);
    // Both texts have the same bytes up to prefix_bytes, so the same character boundaries.
    let prefix_bytes = if prefix < prefix_chars { char_byte(full, prefix) } else { prefix_bytes };
    let suffix_chars = common_suffix_chars(&full[prefix_bytes..], &dummy[prefix_bytes..]);
    let suffix = suffix_chars.min(limit - prefix);
    (prefix, full_chars - suffix)
}

/// Bytes and code points of the longest common prefix that ends on a character boundary.
fn common_prefix(a: &str, b: &str) -> (usize, usize) {
    let mut n = common_prefix_bytes(a.as_bytes(), b.as_bytes());
    while !a.is_char_boundary(n) {
        n -= 1;
    }
    (n, a[..n].chars().count())
}

/// Code points of the longest common suffix: the common bytes from the end, less a partial
/// character (equal bytes have equal boundaries, so this is the same as comparing characters).
fn common_suffix_chars(a: &str, b: &str) -> usize {
    let mut n = common_suffix_bytes(a.as_bytes(), b.as_bytes());
    while !a.is_char_boundary(a.len() - n) {
        n -= 1;
    }
    a[a.len() - n..].chars().count()
}

/// The length of the common prefix of two byte strings, compared a word at a time.
fn common_prefix_bytes(a: &[u8], b: &[u8]) -> usize {
    let words = a.chunks_exact(8).zip(b.chunks_exact(8)).take_while(|(x, y)| x == y).count();
    let n = words * 8;
    n + a[n..].iter().zip(&b[n..]).take_while(|(x, y)| x == y).count()
}

/// The length of the common suffix of two byte strings, compared a word at a time.
fn common_suffix_bytes(a: &[u8], b: &[u8]) -> usize {
    let words = a.rchunks_exact(8).zip(b.rchunks_exact(8)).take_while(|(x, y)| x == y).count();
    let n = words * 8;
    n + a[..a.len() - n].iter().rev().zip(b[..b.len() - n].iter().rev()).take_while(|(x, y)| x == y).count()
}

fn char_byte(text: &str, chars: usize) -> usize {
    text.char_indices().nth(chars).map_or(text.len(), |(i, _)| i)
}

/// Python's `bisect.bisect_right`, step for step (offsets need not be sorted).
fn bisect_right(a: &[usize], x: usize) -> usize {
    let (mut lo, mut hi) = (0, a.len());
    while lo < hi {
        let mid = (lo + hi) / 2;
        if x < a[mid] {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    lo
}

/// Python's `bisect.bisect_left`, step for step.
fn bisect_left(a: &[usize], x: usize) -> usize {
    let (mut lo, mut hi) = (0, a.len());
    while lo < hi {
        let mid = (lo + hi) / 2;
        if a[mid] < x {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    lo
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diff_span_counts_code_points_and_bounds_the_suffix() {
        assert_eq!(diff_char_span("abXYcd", "abZcd"), (2, 4));
        assert_eq!(diff_char_span("é日X本", "é日Y本"), (2, 3));
        // The template repeats itself: the suffix may not overlap the prefix.
        assert_eq!(diff_char_span("aaa", "aa"), (2, 3));
        assert_eq!(diff_char_span("same", "same"), (4, 4));
        // Bytes differ inside a character: the prefix stops before it.
        assert_eq!(diff_char_span("xé", "xè"), (1, 2));
    }

    #[test]
    fn eos_scan_from_minus_one_reads_the_last_token_first() {
        assert_eq!(find_first(&[5, 1, 9], -1, |t| t == 9).unwrap(), -1);
        assert_eq!(find_first(&[5, 9, 1], -1, |t| t == 9).unwrap(), 1);
        assert_eq!(find_first(&[5, 9, 1], 2, |t| t == 9).unwrap(), -1);
        assert!(find_first(&[], -1, |_| true).is_err());
    }

    #[test]
    fn bisect_matches_python() {
        let a = [0, 2, 2, 5];
        assert_eq!(bisect_right(&a, 2), 3);
        assert_eq!(bisect_left(&a, 2), 1);
        assert_eq!(bisect_left(&a, 6), 4);
    }

    #[test]
    fn details_snap_to_token_edges() {
        // tokens "ab" "cd" "ef": offsets rewritten to inclusive ends
        let offsets = [(0, 1), (2, 3), (4, 5)];
        // Python: (1, 3) -> (2, 3); (2, 2) covers no whole token and is skipped.
        let adjust = |b: f64, e: f64, t: Option<bool>| adjust_detail(&(b, e, t), &offsets);
        assert_eq!(adjust(1.0, 3.0, Some(true)), Ok(Some((2, 3, true))));
        assert_eq!(adjust(2.0, 2.0, Some(true)), Ok(None));
        assert_eq!(adjust(1.0, 4.0, Some(true)), Ok(Some((2, 3, true))));
        assert_eq!(adjust(0.5, 3.5, Some(false)), Ok(Some((0, 3, false))));
        // `train` is read only for a detail that covers a token.
        assert_eq!(adjust(9.0, 9.0, None), Ok(None));
        assert!(adjust(0.0, 5.0, None).is_err());
        assert_eq!(adjust(9.0, 9.0, Some(true)), Ok(None));
    }
}
