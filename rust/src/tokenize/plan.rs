//! What Python resolves once per dataset and hands over as JSON: the strategy and its
//! options, with Axolotl's defaults already applied (the plan states, it never defaults).

use indexmap::IndexMap;
use minijinja::Value;
use serde::Deserialize;

use serde_json::value::RawValue;

use super::pyvalue::from_json;
use super::template::TemplateOptions;
use crate::error::{Error, Result};

#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "strategy", rename_all = "snake_case", deny_unknown_fields)]
#[expect(clippy::large_enum_variant, reason = "one Plan per strategy, parsed once")]
pub enum Plan {
    ChatTemplate(ChatPlan),
    Instruct(super::instruct::InstructPlan),
    Completion(super::completion::CompletionPlan),
    InputOutput(super::input_output::InputOutputPlan),
}

impl Plan {
    pub fn from_json(text: &str) -> Result<Plan> {
        let mut plan: Plan =
            serde_json::from_str(text).map_err(|e| Error::invalid(format!("tokenization plan: {e}")))?;
        if let Plan::ChatTemplate(chat) = &mut plan {
            // RawValue cannot pass through the tagged enum's buffering: a second, plain read.
            let raw: RawKwargs =
                serde_json::from_str(text).map_err(|e| Error::invalid(format!("tokenization plan: {e}")))?;
            chat.render_kwargs_json = raw.render_kwargs.into_iter().map(|(k, v)| (k, v.get().to_owned())).collect();
        }
        Ok(plan)
    }
}

#[derive(Deserialize)]
struct RawKwargs<'a> {
    #[serde(borrow)]
    render_kwargs: IndexMap<String, &'a RawValue>,
}

/// The `chat_template` strategy's settings, as `ChatTemplateStrategy` and its prompter hold
/// them after construction.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChatPlan {
    pub chat_template: String,
    /// Keyword arguments of every render besides messages/tools/documents: the tokenizer's
    /// special-token strings overridden by `chat_template_kwargs`, merged as transformers does.
    pub render_kwargs: IndexMap<String, serde_json::Value>,
    /// The same as JSON texts, read with Python's `json.loads` rules (floats as Python reads
    /// them; serde_json may round the last digit). Filled by `Plan::from_json`.
    #[serde(skip)]
    pub render_kwargs_json: Vec<(String, String)>,
    pub add_generation_prompt: bool,
    /// `strftime_now`'s clock and other template options (see `TemplateOptions`).
    #[serde(default)]
    pub template_options: Option<serde_json::Value>,
    pub eos_token_id: Option<u32>,
    /// The strategy's `_eot_token_ids`.
    pub eot_token_ids: Vec<u32>,
    /// Source role -> role (the prompter's `roles`).
    pub roles: IndexMap<String, String>,
    pub roles_to_train: Vec<String>,
    pub train_on_inputs: bool,
    pub train_on_eos: Option<String>,
    pub train_on_eot: Option<String>,
    /// Turn key -> message key, in order.
    pub message_property_mappings: IndexMap<String, String>,
    pub field_messages: String,
    pub field_system: String,
    pub field_tools: String,
    pub message_field_training: Option<String>,
    pub message_field_training_detail: Option<String>,
    pub template_thinking_key: String,
    pub split_thinking: bool,
    pub drop_system_message: bool,
    /// The message keys the template reads, in the order Axolotl's set iterates them.
    pub message_variables: Vec<String>,
    /// Axolotl never locates a leading system turn when the tokenizer's name_or_path
    /// contains "mistral".
    pub skip_leading_system_turn: bool,
}

impl ChatPlan {
    pub fn template_options(&self) -> Result<TemplateOptions> {
        match &self.template_options {
            None => Ok(TemplateOptions::default()),
            Some(options) => TemplateOptions::from_json(&options.to_string()),
        }
    }

    pub fn render_kwargs(&self) -> Result<Vec<(String, Value)>> {
        self.render_kwargs_json
            .iter()
            .map(|(k, v)| {
                let value = from_json(v).map_err(|e| Error::invalid(format!("render_kwargs[{k:?}]: {}", e.0)))?;
                Ok((k.clone(), value.to_jinja()))
            })
            .collect()
    }
}
