"""Plans for the Rust prompt strategies, read off Axolotl's own strategy objects after Axolotl
built them (so every config default and validation is Axolotl's): `plan_of(strategy)`, or
Fallback naming what the Rust path does not model."""

from __future__ import annotations

from .fallback import Fallback


def plan_of(strategy) -> dict:
    """The plan of a strategy the Rust path models; Fallback otherwise."""
    from axolotl.prompt_strategies.alpaca_w_system import InstructionWSystemPromptTokenizingStrategy
    from axolotl.prompt_strategies.chat_template import ChatTemplateStrategy
    from axolotl.prompt_strategies.completion import CompletionPromptTokenizingStrategy
    from axolotl.prompt_strategies.input_output import RawInputOutputStrategy
    from axolotl.prompt_tokenizers import InstructionPromptTokenizingStrategy

    if type(strategy) is ChatTemplateStrategy:
        return chat_plan(strategy)
    # completion subclasses the instruction strategy: test it first
    if isinstance(strategy, CompletionPromptTokenizingStrategy):
        return completion_plan(strategy)
    if isinstance(strategy, RawInputOutputStrategy):
        return input_output_plan(strategy)
    if isinstance(strategy, (InstructionPromptTokenizingStrategy, InstructionWSystemPromptTokenizingStrategy)):
        return instruct_plan(strategy)
    raise Fallback(f"the {type(strategy).__name__} strategy is not modelled")


# apply_chat_template's own parameters: chat_template_kwargs naming one of them change the
# call itself, not only what the template sees.
_CALL_PARAMETERS = frozenset(
    {
        "conversation",
        "tools",
        "documents",
        "chat_template",
        "continue_final_message",
        "tokenize",
        "padding",
        "truncation",
        "max_length",
        "return_tensors",
        "return_dict",
        "return_assistant_tokens_mask",
        "tokenizer_kwargs",
    }
)


def _strings(value, what: str) -> None:
    if isinstance(value, dict):
        items = list(value.keys()) + list(value.values())
    else:
        items = list(value)
    if not all(isinstance(item, str) for item in items):
        raise Fallback(f"{what} holds values that are not strings")


def _optional_str(value):
    return value if isinstance(value, str) else None


def chat_plan(strategy) -> dict:
    """The plan of an Axolotl `ChatTemplateStrategy`, or Fallback naming what is not modelled."""
    from axolotl.prompt_strategies.chat_template import ChatTemplatePrompter, ChatTemplateStrategy

    if type(strategy) is not ChatTemplateStrategy:
        raise Fallback(f"the {type(strategy).__name__} strategy is not modelled")
    prompter, tokenizer = strategy.prompter, strategy.tokenizer
    if type(prompter) is not ChatTemplatePrompter or prompter.tokenizer is not tokenizer:
        raise Fallback(f"the prompter {type(prompter).__name__} is not modelled")
    if prompter.processor is not None:
        raise Fallback("a processor (multimodal) renders the prompts")
    if not getattr(tokenizer, "is_fast", False) or not hasattr(tokenizer, "backend_tokenizer"):
        raise Fallback("the tokenizer is not a fast tokenizer")
    if not (
        strategy.roles_to_train
        or strategy.train_on_eos
        or strategy.train_on_eot
        or prompter.message_field_training
        or prompter.message_field_training_detail
    ):
        raise Fallback("the legacy branch (no roles_to_train, train_on_eos or train_on_eot)")
    if not isinstance(prompter.chat_template, str):
        raise Fallback("no chat template string")
    kwargs = dict(prompter.chat_template_kwargs or {})
    if _CALL_PARAMETERS & kwargs.keys():
        raise Fallback(f"chat_template_kwargs sets {sorted(_CALL_PARAMETERS & kwargs.keys())}")
    add_generation_prompt = kwargs.pop("add_generation_prompt", False)
    if not isinstance(add_generation_prompt, bool):
        raise Fallback("add_generation_prompt is not a bool")
    for what, value in [
        ("roles", prompter.roles),
        ("roles_to_train", strategy.roles_to_train),
        ("message_property_mappings", prompter.message_property_mappings),
    ]:
        _strings(value, what)
    return {
        "strategy": "chat_template",
        "chat_template": prompter.chat_template,
        # transformers: template_kwargs = {**special_tokens_map, **kwargs}
        "render_kwargs": {**tokenizer.special_tokens_map, **kwargs},
        "add_generation_prompt": add_generation_prompt,
        "template_options": None,
        "eos_token_id": tokenizer.eos_token_id,
        "eot_token_ids": sorted(strategy._eot_token_ids),
        "roles": dict(prompter.roles),
        "roles_to_train": list(strategy.roles_to_train),
        "train_on_inputs": bool(strategy.train_on_inputs),
        "train_on_eos": _optional_str(strategy.train_on_eos),
        "train_on_eot": _optional_str(strategy.train_on_eot),
        "message_property_mappings": dict(prompter.message_property_mappings),
        "field_messages": prompter.field_messages,
        "field_system": prompter.field_system,
        "field_tools": prompter.field_tools,
        "message_field_training": _optional_str(prompter.message_field_training),
        "message_field_training_detail": _optional_str(prompter.message_field_training_detail),
        "template_thinking_key": prompter.template_thinking_key,
        "split_thinking": bool(strategy.split_thinking),
        "drop_system_message": bool(prompter.drop_system_message),
        # the set's own iteration order, as transform_message iterates it
        "message_variables": list(prompter.chat_template_msg_variables),
        "skip_leading_system_turn": "mistral" in str(tokenizer.name_or_path).lower(),
    }


# ---------------------------------------------------------------------------------------
# The strategies built on PromptTokenizingStrategy._tokenize: instruct (alpaca and kin),
# completion, input_output. Each plan is read off the strategy and its prompter; anything
# overridden (a subclass, an instance attribute, a tokenizer class with its own call) is
# not modelled.

# The instance attributes PromptTokenizingStrategy.__init__ sets.
_STRATEGY_ATTRIBUTES = frozenset({"prompter", "tokenizer", "train_on_inputs", "sequence_len", "max_length"})


def _own_attributes(strategy, extra=()) -> None:
    unknown = set(vars(strategy)) - _STRATEGY_ATTRIBUTES - set(extra)
    if unknown:
        raise Fallback(f"the strategy sets {sorted(unknown)}")


def _positive_int(value, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise Fallback(f"{what} is {value!r}, not a positive int")
    return value


def _tokenizer_call(tokenizer) -> None:
    """Fallback unless `tokenizer(text, ...)` is transformers' fast-tokenizer call, whose ids
    the Rust encoder reproduces from the exported backend JSON."""
    from transformers.tokenization_utils_base import PreTrainedTokenizerBase
    from transformers.tokenization_utils_tokenizers import TokenizersBackend

    cls = type(tokenizer)
    if not isinstance(tokenizer, TokenizersBackend) or not hasattr(tokenizer, "backend_tokenizer"):
        raise Fallback("the tokenizer is not a fast tokenizer")
    overridden = [
        name
        for name, base in (
            ("__call__", PreTrainedTokenizerBase),
            ("_encode_plus", TokenizersBackend),
            ("_convert_encoding", TokenizersBackend),
            ("set_truncation_and_padding", TokenizersBackend),
        )
        if getattr(cls, name) is not getattr(base, name) or name in vars(tokenizer)
    ]
    if overridden:
        raise Fallback(f"{cls.__name__} overrides {overridden}")


def _tokenize_rule(strategy) -> dict:
    """`_tokenize`'s settings: the truncating call's, the BOS and EOS ids. The call returns
    input_ids and attention_mask only (the columns Rust writes)."""
    tokenizer = strategy.tokenizer
    _tokenizer_call(tokenizer)
    names = list(tokenizer.model_input_names)
    if "token_type_ids" in names or "attention_mask" not in names:
        raise Fallback(f"the tokenizer returns {names}")
    if tokenizer.truncation_side not in ("left", "right"):
        raise Fallback(f"truncation_side {tokenizer.truncation_side!r}")
    bos, eos = tokenizer.bos_token_id, tokenizer.eos_token_id
    if not isinstance(eos, int) or not (bos is None or isinstance(bos, int)):
        raise Fallback("the tokenizer has no int EOS id (Axolotl would append None)")
    return {
        "max_length": _positive_int(strategy.max_length, "max_length"),
        "truncation_side": tokenizer.truncation_side,
        "bos_token_id": bos,
        "eos_token_id": eos,
    }


def completion_plan(strategy) -> dict:
    """The plan of Axolotl's `CompletionPromptTokenizingStrategy` (`type: completion`)."""
    from axolotl.prompt_strategies.completion import CompletionPrompter, CompletionPromptTokenizingStrategy

    if type(strategy) is not CompletionPromptTokenizingStrategy or type(strategy.prompter) is not CompletionPrompter:
        raise Fallback(f"the {type(strategy).__name__} strategy is not modelled")
    _own_attributes(strategy, extra=("_field",))
    if not isinstance(strategy.field, str):
        raise Fallback("the text field is not a string")
    return {
        "strategy": "completion",
        "field": strategy.field,
        "sequence_len": _positive_int(strategy.sequence_len, "sequence_len"),
        "tokenize": _tokenize_rule(strategy),
    }


def input_output_plan(strategy) -> dict:
    """The plan of Axolotl's `RawInputOutputStrategy` (`type: input_output`)."""
    from axolotl.prompt_strategies.input_output import RawInputOutputPrompter, RawInputOutputStrategy

    if type(strategy) is not RawInputOutputStrategy or type(strategy.prompter) is not RawInputOutputPrompter:
        raise Fallback(f"the {type(strategy).__name__} strategy is not modelled")
    _own_attributes(strategy, extra=("eos_token",))
    _tokenizer_call(strategy.tokenizer)
    return {"strategy": "input_output", "train_on_inputs": bool(strategy.train_on_inputs)}


# Plan expressions (see rust/src/tokenize/instruct.rs: Expr).
def _f(name):
    return {"field": name}


def _t(text):
    return {"text": text}


def _or(name, default):
    return {"field_or": {"field": name, "default": default}}


def _cat(*operands):
    return {"concat": list(operands)}


_MISSING_INFO = (
    "The context provided does not contain any information about your inquiry. "
    "Therefore, I'm unable to answer your question based on the given context."
)


def _instruct_fields() -> dict:
    """`parse_instruction_fields` of each instruction strategy class, as plan expressions:
    (instruction, input, response[, system]). Checked against the class on a probe row."""
    from axolotl import prompt_tokenizers as pt
    from axolotl.prompt_strategies import alpaca_chat, alpaca_w_system, context_qa, creative_acr

    return {
        pt.AlpacaPromptTokenizingStrategy: (_f("instruction"), _or("input", _t("")), _f("output")),
        pt.AlpacaMultipleChoicePromptTokenizingStrategy: (
            _f("question"),
            {"choices": "choices"},
            _or("solution", _f("explanation")),
        ),
        pt.JeopardyPromptTokenizingStrategy: (_f("question"), _f("category"), _cat(_t("what is "), _f("answer"))),
        pt.OpenAssistantPromptTokenizingStrategy: (_f("INSTRUCTION"), _t(""), _f("RESPONSE")),
        pt.SummarizeTLDRPromptTokenizingStrategy: (_f("article"), _t(""), _f("summary")),
        pt.GPTeacherPromptTokenizingStrategy: (_f("instruction"), _or("input", _t("")), _f("response")),
        pt.NomicGPT4AllPromptTokenizingStrategy: (_f("prompt"), _t(""), _f("response")),
        alpaca_chat.AlpacaQAPromptTokenizingStrategy: (_f("question"), _t(""), _f("answer")),
        alpaca_chat.CamelAIPromptTokenizingStrategy: (_f("message_1"), _t(""), _f("message_2")),
        context_qa.AlpacaContextPromptTokenizingStrategy: (
            _cat(_f("article"), _t("\n===\n"), _f("question")),
            _t(""),
            _f("answer"),
        ),
        context_qa.ContextQaV2PromptTokenizingStrategy: (
            _cat(_t("Context: "), _f("context"), _t("\nQuestion: "), _f("question"), _t("\n")),
            _t(""),
            _cat(_t("Answer: "), _f("answer")),
        ),
        context_qa.AlpacaMissingInfoContextPromptTokenizingStrategy: (
            _cat(_f("article"), _t("\n===\n"), _f("unanswerable_question")),
            _t(""),
            _t(_MISSING_INFO),
        ),
        creative_acr.CreativeAnsweringPromptTokenizingStrategy: (_f("instruction"), _t(""), _f("revision")),
        alpaca_w_system.InstructionWSystemPromptTokenizingStrategy: (
            _f("instruction"),
            _or("input", _t("")),
            _f("output"),
            _f("system"),
        ),
        alpaca_w_system.OpenOrcaPromptTokenizingStrategy: (_f("question"), _t(""), _f("response"), _f("system_prompt")),
    }


def _user_defined_fields(strategy):
    """The expressions of `user_defined.load`'s partial `parse_instruction_fields`."""
    import functools

    parse = vars(strategy).get("parse_instruction_fields")
    func = getattr(parse, "func", None)
    if not (
        isinstance(parse, functools.partial)
        and not parse.keywords
        and len(parse.args) == 5
        and getattr(func, "__module__", "") == "axolotl.prompt_strategies.user_defined"
        and getattr(func, "__name__", "") == "parse_instruction_fields"
    ):
        raise Fallback("the user_defined strategy's field parser is not Axolotl's")
    instruction, input_, output, system, system_prompt = parse.args
    if not all(isinstance(v, str) for v in parse.args):
        raise Fallback("a user_defined field name or system_prompt is not a string")
    return (_f(instruction), _or(input_, _t("")), _or(output, _t("")), _or(system, _t(system_prompt)))


def _format_parts(template, names: tuple) -> list:
    """A `str.format(**{name: ...})` template as plan parts: literal text and `{name}` fields
    (anything else, a conversion, a format spec, another name, is not modelled)."""
    import string

    if not isinstance(template, str):
        raise Fallback(f"a prompt format {template!r} is not a string")
    parts = []
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as error:
        raise Fallback(f"the prompt format {template!r} does not parse: {error}") from None
    for literal, name, spec, conversion in parsed:
        if literal:
            parts.append(_t(literal))
        if name is None:
            continue
        if spec or conversion or name not in names:
            raise Fallback(f"the prompt format {template!r} has the field {{{name}}}")
        parts.append({"arg": name})
    return parts


def _prompt_recipe(prompter, with_system: bool) -> tuple:
    """The user prompt of `prompter` (parts when input is truthy, parts when not), for the
    prompter methods modelled: AlpacaPrompter._build_result, SystemDataPrompter's and
    OrcaMiniPrompter's build_prompt_w_system, CreativePrompterBase.build_prompt."""
    from axolotl.prompt_strategies.alpaca_w_system import SystemDataPrompter
    from axolotl.prompt_strategies.creative_acr import CreativePrompterBase
    from axolotl.prompt_strategies.orcamini import OrcaMiniPrompter
    from axolotl.prompters import AlpacaPrompter

    cls = type(prompter)
    if any(callable(v) for v in vars(prompter).values()):
        raise Fallback("the prompter has methods set on the instance")
    try:
        if with_system and cls.build_prompt_w_system is SystemDataPrompter.build_prompt_w_system:
            system = (
                [{"if_truthy": {"arg": "system", "parts": _format_parts(prompter.system_format, ("system",))}}]
                if prompter.system_format
                else []
            )
            return (
                system + _format_parts(prompter.turn_format, ("instruction", "input")),
                system + _format_parts(prompter.turn_no_input_format, ("instruction",)),
            )
        if with_system and cls.build_prompt_w_system is OrcaMiniPrompter.build_prompt_w_system:
            # the strategy passes input where OrcaMini takes output: appended when truthy
            turn = _format_parts(prompter.turn_no_input_format, ("system", "instruction"))
            return turn + [{"arg": "input"}], turn
        if (
            not with_system
            and cls.build_prompt is AlpacaPrompter.build_prompt
            and cls._build_result is AlpacaPrompter._build_result
        ):

            def block(system_prompt):
                return [_t(prompter.system_format.format(system=system_prompt))] if system_prompt else []

            return (
                block(prompter.system_prompt) + _format_parts(prompter.turn_format, ("instruction", "input")),
                block(prompter.system_no_input_prompt) + _format_parts(prompter.turn_no_input_format, ("instruction",)),
            )
        if not with_system and cls.build_prompt is CreativePrompterBase.build_prompt:
            head = f"{prompter.system_prompt}\nUSER: " if prompter.system_prompt else "USER: "
            turn = [_t(head), {"arg": "instruction"}, _t("\nASSISTANT:")]
            return turn, turn
    except Fallback:
        raise
    except Exception as error:  # an attribute the prompt style left unset, a format error
        raise Fallback(f"the prompter's formats do not apply ({type(error).__name__}: {error})") from None
    raise Fallback(f"the prompter {cls.__name__} is not modelled")


def _probe_value(expr, row):
    """A plan expression evaluated in Python (for the probe check)."""
    if "text" in expr:
        return expr["text"]
    if "field" in expr:
        return row[expr["field"]]
    if "field_or" in expr:
        spec = expr["field_or"]
        return row[spec["field"]] if spec["field"] in row else _probe_value(spec["default"], row)
    if "concat" in expr:
        return "".join(_probe_value(e, row) for e in expr["concat"])
    return "\n".join(f'- "{choice}"' for choice in row[expr["choices"]])


def _probe_render(parts, args) -> str:
    out = []
    for part in parts:
        if "text" in part:
            out.append(part["text"])
        elif "arg" in part:
            out.append(str(args[part["arg"]]))
        elif args[part["if_truthy"]["arg"]]:
            out.append(_probe_render(part["if_truthy"]["parts"], args))
    return "".join(out)


def _probe_fields(exprs) -> list:
    names = []
    for expr in exprs:
        if "field" in expr or "choices" in expr:
            names.append(expr.get("field") or expr.get("choices"))
        elif "field_or" in expr:
            names.append(expr["field_or"]["field"])
            names.extend(_probe_fields([expr["field_or"]["default"]]))
        elif "concat" in expr:
            names.extend(_probe_fields(expr["concat"]))
    return names


def _check_on_probe(strategy, exprs, recipe, with_system: bool) -> None:
    """Axolotl's own parse_instruction_fields and prompter on a probe row (every column a
    distinct string, choices a list) must give what the plan gives, for an input and for
    none: a guard against a class this table misreads."""
    choices = {e["choices"] for e in exprs if "choices" in e}
    row = {name: ([f"<{name}:a>", f"<{name}:b>"] if name in choices else f"<{name}>") for name in _probe_fields(exprs)}
    try:
        fields = tuple(strategy.parse_instruction_fields(row))
        ours = tuple(_probe_value(e, row) for e in exprs)
        if fields != ours:
            raise Fallback(f"parse_instruction_fields gives {fields!r}, the plan {ours!r}")
        for input_ in ("<input>", ""):
            args = {"instruction": fields[0], "input": input_, "system": fields[3] if with_system else None}
            if with_system:
                theirs = next(
                    iter(strategy.prompter.build_prompt_w_system(args["system"], args["instruction"], input_))
                )
            else:
                theirs = next(iter(strategy.prompter.build_prompt(args["instruction"], input_)))
            mine = _probe_render(recipe[0] if input_ else recipe[1], args)
            if theirs != mine:
                raise Fallback(f"the prompter renders {theirs!r}, the plan {mine!r}")
    except Fallback:
        raise
    except Exception as error:
        raise Fallback(f"the probe row fails ({type(error).__name__}: {error})") from None


def instruct_plan(strategy) -> dict:
    """The plan of an Axolotl instruction strategy (`alpaca`, `alpaca:chat`, `alpaca_chat*`,
    `alpaca_instruct*`, `alpaca_w_system.*`, `gpteacher`, `jeopardy`, `oasst`,
    `summarizetldr`, `explainchoice`, `concisechoice`, `context_qa*`, `creative_acr.load_answer`,
    `orcamini`, `user_defined` / a dict `type:`), or Fallback."""
    from axolotl.prompt_strategies.alpaca_w_system import InstructionWSystemPromptTokenizingStrategy
    from axolotl.prompt_strategies.user_defined import UserDefinedPromptTokenizationStrategy
    from axolotl.prompt_tokenizers import InstructionPromptTokenizingStrategy, PromptTokenizingStrategy

    cls = type(strategy)
    with_system = cls.tokenize_prompt is InstructionWSystemPromptTokenizingStrategy.tokenize_prompt
    if not with_system and cls.tokenize_prompt is not InstructionPromptTokenizingStrategy.tokenize_prompt:
        raise Fallback(f"{cls.__name__}.tokenize_prompt is not modelled")
    if cls._tokenize is not PromptTokenizingStrategy._tokenize:
        raise Fallback(f"{cls.__name__}._tokenize is not modelled")
    if cls.supports_batched is not PromptTokenizingStrategy.supports_batched:
        raise Fallback(f"{cls.__name__} is batched")
    if cls is UserDefinedPromptTokenizationStrategy:
        exprs = _user_defined_fields(strategy)
        _own_attributes(strategy, extra=("parse_instruction_fields",))
    else:
        exprs = _instruct_fields().get(cls)
        if exprs is None:
            raise Fallback(f"the {cls.__name__} strategy is not modelled")
        _own_attributes(strategy)
    if len(exprs) != (4 if with_system else 3):
        raise Fallback(f"{cls.__name__} does not take the fields the plan gives")
    recipe = _prompt_recipe(strategy.prompter, with_system)
    _check_on_probe(strategy, exprs, recipe, with_system)
    return {
        "strategy": "instruct",
        "instruction": exprs[0],
        "input": exprs[1],
        "response": exprs[2],
        "system": exprs[3] if with_system else None,
        "prompt_with_input": recipe[0],
        "prompt_without_input": recipe[1],
        "tokenize": _tokenize_rule(strategy),
        "train_on_inputs": bool(strategy.train_on_inputs),
    }
