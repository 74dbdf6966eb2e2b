//! C exports of the chat-template renderer (`crate::tokenize::template`), an opaque handle.

use std::os::raw::c_char;

use super::args::utf8_arg;
use super::guard;
use super::lists::slice_mut;
use crate::error::Error;
use crate::tokenize::pyvalue::from_json;
use crate::tokenize::template::{ChatTemplate, TemplateOptions};

/// A chat template compiled once, rendered as transformers renders it with jinja2. Create
/// with `fax_chat_template_new`, free with `fax_chat_template_free`. Rendering does not
/// change the handle: any number of threads may render with one handle at once.
pub struct FaxChatTemplate(ChatTemplate);

/// Compiles the template `source` (`source_len` UTF-8 bytes, no NUL needed) into `*out`.
/// `options_json` (`options_len` bytes; NULL with 0 = defaults) is a JSON object:
/// `{"now": "2024-07-26T09:30:00"}` pins the local date-time `strftime_now` formats
/// (default: the clock at each call). A syntax error is `FAX_ERR_INVALID_ARGUMENT` with a
/// message naming the template line.
#[no_mangle]
pub unsafe extern "C" fn fax_chat_template_new(
    source: *const c_char,
    source_len: usize,
    options_json: *const c_char,
    options_len: usize,
    out: *mut *mut FaxChatTemplate,
) -> i32 {
    guard(|| {
        // SAFETY: caller's contract: readable buffers of the given lengths, NULL or writable `out`.
        let out = unsafe { out.as_mut() }.ok_or_else(|| Error::invalid("out is NULL"))?;
        // SAFETY: as above, the caller's contract.
        let source = unsafe { utf8_arg(source, source_len, "source") }?;
        // SAFETY: as above, the caller's contract.
        let options_text = unsafe { utf8_arg(options_json, options_len, "options_json") }?;
        let options = if options_text.trim().is_empty() {
            TemplateOptions::default()
        } else {
            TemplateOptions::from_json(options_text)?
        };
        let template = ChatTemplate::with_options(source, options)?;
        *out = Box::into_raw(Box::new(FaxChatTemplate(template)));
        Ok(())
    })
}

/// Frees a template from `fax_chat_template_new`; NULL is a no-op.
#[no_mangle]
pub unsafe extern "C" fn fax_chat_template_free(handle: *mut FaxChatTemplate) {
    super::guard_value((), || {
        if !handle.is_null() {
            // SAFETY: `handle` came from fax_chat_template_new and is freed once (caller's contract).
            drop(unsafe { Box::from_raw(handle) });
        }
    })
}

/// Renders the template `handle` with the variables of `context_json` (`context_len` UTF-8 bytes: a
/// JSON object such as `{"messages": [...], "tools": null, "documents": null,
/// "add_generation_prompt": false, "bos_token": "<s>", ...}`, read as Python's
/// `json.loads` reads it) and writes the text, UTF-8 without a NUL, to `out` (`out_cap`
/// bytes; NULL with 0 to ask for the size). `*out_len` is the text's length in bytes; when
/// it exceeds `out_cap` nothing is written and the status is `FAX_ERR_BUFFER_TOO_SMALL`
/// (call again with a buffer of `*out_len` bytes). A `raise_exception` in the template is
/// `FAX_ERR_INVALID_ARGUMENT` whose message is the raised text and the template line; any
/// other render error is `FAX_ERR_INVALID_ARGUMENT` starting "chat template error".
#[no_mangle]
pub unsafe extern "C" fn fax_chat_template_render(
    handle: *const FaxChatTemplate,
    context_json: *const c_char,
    context_len: usize,
    out: *mut c_char,
    out_cap: usize,
    out_len: *mut usize,
) -> i32 {
    guard(|| {
        // SAFETY: caller's contract: a live handle, readable context bytes, `out_cap`
        // writable bytes at `out`, NULL or writable `out_len`.
        let template = unsafe { handle.as_ref() }.ok_or_else(|| Error::invalid("handle is NULL"))?;
        // SAFETY: as above, the caller's contract.
        let out_len = unsafe { out_len.as_mut() }.ok_or_else(|| Error::invalid("out_len is NULL"))?;
        // SAFETY: as above, the caller's contract.
        let context = unsafe { utf8_arg(context_json, context_len, "context_json") }?;
        let context = from_json(context).map_err(|e| Error::invalid(format!("context_json: {}", e.0)))?;
        let text = template.0.render(&context.to_jinja())?;
        *out_len = text.len();
        if text.len() > out_cap {
            return Err(Error::BufferTooSmall {
                needed: text.len(),
                message: format!("the rendered text is {} bytes, the buffer holds {out_cap}", text.len()),
            });
        }
        // SAFETY: the caller's contract (the export's doc comment).
        let out = unsafe { slice_mut(out.cast::<u8>(), text.len(), "out") }?;
        out.copy_from_slice(text.as_bytes());
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ffi::{FAX_ERR_BUFFER_TOO_SMALL, FAX_ERR_INVALID_ARGUMENT, FAX_OK};

    fn compile(source: &str) -> *mut FaxChatTemplate {
        let mut handle = std::ptr::null_mut();
        let status =
            // SAFETY: the caller's contract (the export's doc comment).
            unsafe { fax_chat_template_new(source.as_ptr().cast(), source.len(), std::ptr::null(), 0, &mut handle) };
        assert_eq!(status, FAX_OK);
        handle
    }

    #[test]
    fn render_into_a_caller_buffer() {
        let handle = compile("{% for m in messages %}{{ m.content }}{% endfor %}");
        let context = r#"{"messages": [{"role": "user", "content": "héllo"}]}"#;
        let mut len = 0;
        // SAFETY: the caller's contract (the export's doc comment).
        let status = unsafe {
            fax_chat_template_render(handle, context.as_ptr().cast(), context.len(), std::ptr::null_mut(), 0, &mut len)
        };
        assert_eq!((status, len), (FAX_ERR_BUFFER_TOO_SMALL, 6));
        let mut buf = vec![0u8; len];
        // SAFETY: the caller's contract (the export's doc comment).
        let status = unsafe {
            fax_chat_template_render(
                handle,
                context.as_ptr().cast(),
                context.len(),
                buf.as_mut_ptr().cast(),
                len,
                &mut len,
            )
        };
        assert_eq!(status, FAX_OK);
        assert_eq!(std::str::from_utf8(&buf[..len]).unwrap(), "héllo");
        let bad = "{not json";
        // SAFETY: the caller's contract (the export's doc comment).
        let status = unsafe {
            fax_chat_template_render(handle, bad.as_ptr().cast(), bad.len(), buf.as_mut_ptr().cast(), 6, &mut len)
        };
        assert_eq!(status, FAX_ERR_INVALID_ARGUMENT);
        // SAFETY: the caller's contract (the export's doc comment).
        unsafe { fax_chat_template_free(handle) };
        // SAFETY: as above, the caller's contract.
        unsafe { fax_chat_template_free(std::ptr::null_mut()) };
    }

    #[test]
    fn syntax_errors_are_invalid_arguments() {
        let source = "{% if %}";
        let mut handle = std::ptr::null_mut();
        let status =
            // SAFETY: the caller's contract (the export's doc comment).
            unsafe { fax_chat_template_new(source.as_ptr().cast(), source.len(), std::ptr::null(), 0, &mut handle) };
        assert_eq!(status, FAX_ERR_INVALID_ARGUMENT);
        assert!(handle.is_null());
    }
}
