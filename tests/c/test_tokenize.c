/* Tokenizes chat rows through the C ABI alone, as a program in another language would:
 * usage: test_tokenize TOKENIZER_JSON_FILE PLAN_JSON_FILE MESSAGES_FILE
 * MESSAGES_FILE holds one row per line: the row's `messages` as a JSON string. The rows go
 * to fax_prompt_strategy_tokenize as an Arrow C stream of one utf8 column; the program
 * prints, per output row, "row status n_tokens ids... | labels..." and checks the error
 * paths (a bad tokenizer JSON, a template that does not compile). tests/test_tokenize_abi.py
 * compares what it prints with the Python path. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fastaxo.h"

static char *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) { perror(path); exit(2); }
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *data = malloc((size_t)size + 1);
    if (fread(data, 1, (size_t)size, f) != (size_t)size) { perror(path); exit(2); }
    fclose(f);
    data[size] = 0;
    *len = (size_t)size;
    return data;
}

static void fail(const char *what) {
    char message[1024];
    fax_last_error_message(message, sizeof message);
    fprintf(stderr, "%s failed: %s\n", what, message);
    exit(1);
}

/* --- a one-batch Arrow C stream of a utf8 column "messages" --------------------------- */

struct rows {
    int64_t length;
    int32_t *offsets;
    char *data;
    int sent;
};

static void release_schema(struct ArrowSchema *schema) {
    for (int64_t i = 0; i < schema->n_children; i++) {
        schema->children[i]->release(schema->children[i]);
        free(schema->children[i]);
    }
    free(schema->children);
    schema->release = NULL;
}

static void release_child_schema(struct ArrowSchema *schema) { schema->release = NULL; }

static int get_schema(struct ArrowArrayStream *stream, struct ArrowSchema *out) {
    (void)stream;
    struct ArrowSchema *child = calloc(1, sizeof *child);
    *child = (struct ArrowSchema){.format = "u", .name = "messages", .flags = ARROW_FLAG_NULLABLE,
                                  .release = release_child_schema};
    struct ArrowSchema **children = malloc(sizeof *children);
    children[0] = child;
    *out = (struct ArrowSchema){.format = "+s", .name = "", .n_children = 1, .children = children,
                                .release = release_schema};
    return 0;
}

struct batch_data {
    const void *struct_buffers[1];
    const void *child_buffers[3];
    struct ArrowArray child;
    struct ArrowArray *children[1];
};

static void release_child_array(struct ArrowArray *array) { array->release = NULL; }

static void release_array(struct ArrowArray *array) {
    free(array->private_data);
    array->release = NULL;
}

static int get_next(struct ArrowArrayStream *stream, struct ArrowArray *out) {
    struct rows *rows = stream->private_data;
    if (rows->sent) {
        out->release = NULL; /* the end of the stream */
        return 0;
    }
    rows->sent = 1;
    struct batch_data *d = calloc(1, sizeof *d);
    d->child_buffers[0] = NULL;
    d->child_buffers[1] = rows->offsets;
    d->child_buffers[2] = rows->data;
    d->child = (struct ArrowArray){.length = rows->length, .n_buffers = 3, .buffers = d->child_buffers,
                                   .release = release_child_array};
    d->children[0] = &d->child;
    d->struct_buffers[0] = NULL;
    *out = (struct ArrowArray){.length = rows->length, .n_buffers = 1, .buffers = d->struct_buffers,
                               .n_children = 1, .children = d->children, .release = release_array,
                               .private_data = d};
    return 0;
}

static const char *get_last_error(struct ArrowArrayStream *stream) {
    (void)stream;
    return NULL;
}

static void release_stream(struct ArrowArrayStream *stream) { stream->release = NULL; }

/* One row per line of `text` (the line break is not part of it). */
static struct rows split_lines(char *text, size_t len) {
    struct rows rows = {0};
    for (size_t i = 0; i < len; i++) rows.length += text[i] == '\n';
    rows.offsets = malloc(sizeof(int32_t) * (size_t)(rows.length + 1));
    rows.data = malloc(len + 1);
    size_t written = 0;
    int64_t row = 0;
    rows.offsets[0] = 0;
    for (size_t i = 0; i < len; i++) {
        if (text[i] == '\n') {
            rows.offsets[++row] = (int32_t)written;
        } else {
            rows.data[written++] = text[i];
        }
    }
    return rows;
}

/* --- reading the output struct array --------------------------------------------------- */

static int64_t child_index(const struct ArrowSchema *schema, const char *name) {
    for (int64_t i = 0; i < schema->n_children; i++)
        if (strcmp(schema->children[i]->name, name) == 0) return i;
    fprintf(stderr, "output has no column %s\n", name);
    exit(1);
}

static void print_list(const struct ArrowArray *list, const char *format, int64_t row) {
    const int32_t *offsets = list->buffers[1];
    const struct ArrowArray *values = list->children[0];
    for (int32_t i = offsets[list->offset + row]; i < offsets[list->offset + row + 1]; i++) {
        int64_t at = values->offset + i;
        if (strcmp(format, "i") == 0) printf(" %d", ((const int32_t *)values->buffers[1])[at]);
        else if (strcmp(format, "l") == 0) printf(" %lld", (long long)((const int64_t *)values->buffers[1])[at]);
        else printf(" %d", ((const int8_t *)values->buffers[1])[at]);
    }
}

static void check_errors(void) {
    struct FaxTokenizer *tokenizer = NULL;
    const char *bad_json = "{\"not\": \"a tokenizer\"}";
    if (fax_tokenizer_new(bad_json, strlen(bad_json), NULL, 0, &tokenizer) != FAX_ERR_FORMAT || tokenizer)
        fail("a bad tokenizer JSON must be FAX_ERR_FORMAT");
    struct FaxChatTemplate *template_ = NULL;
    const char *bad_template = "line one\n{% for x in %}";
    if (fax_chat_template_new(bad_template, strlen(bad_template), NULL, 0, &template_) != FAX_ERR_INVALID_ARGUMENT)
        fail("a template that does not compile must be FAX_ERR_INVALID_ARGUMENT");
    char message[512];
    fax_last_error_message(message, sizeof message);
    if (!strstr(message, "line 2")) {
        fprintf(stderr, "the template error does not name its line: %s\n", message);
        exit(1);
    }
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: %s TOKENIZER_JSON PLAN_JSON MESSAGES_FILE\n", argv[0]);
        return 2;
    }
    check_errors();
    size_t tokenizer_len, plan_len, messages_len;
    char *tokenizer_json = read_file(argv[1], &tokenizer_len);
    char *plan_json = read_file(argv[2], &plan_len);
    char *messages = read_file(argv[3], &messages_len);

    struct FaxTokenizer *tokenizer = NULL;
    if (fax_tokenizer_new(tokenizer_json, tokenizer_len, NULL, 0, &tokenizer)) fail("fax_tokenizer_new");
    struct FaxPromptStrategy *strategy = NULL;
    if (fax_prompt_strategy_new(tokenizer, plan_json, plan_len, &strategy)) fail("fax_prompt_strategy_new");
    fax_tokenizer_free(tokenizer); /* the strategy keeps what it needs */

    struct rows rows = split_lines(messages, messages_len);
    struct ArrowArrayStream stream = {.get_schema = get_schema, .get_next = get_next,
                                      .get_last_error = get_last_error, .release = release_stream,
                                      .private_data = &rows};
    struct ArrowArray out;
    struct ArrowSchema schema;
    if (fax_prompt_strategy_tokenize(strategy, &stream, 0, &out, &schema)) fail("fax_prompt_strategy_tokenize");
    if (stream.release) {
        fprintf(stderr, "the stream was not released\n");
        return 1;
    }

    const struct ArrowArray *row_col = out.children[child_index(&schema, "row")];
    const struct ArrowArray *status_col = out.children[child_index(&schema, "status")];
    const struct ArrowArray *ids = out.children[child_index(&schema, "input_ids")];
    const struct ArrowArray *labels = out.children[child_index(&schema, "labels")];
    const struct ArrowArray *mask = out.children[child_index(&schema, "attention_mask")];
    for (int64_t r = 0; r < out.length; r++) {
        printf("%lld %d", (long long)((const int64_t *)row_col->buffers[1])[row_col->offset + r],
               ((const int8_t *)status_col->buffers[1])[status_col->offset + r]);
        print_list(ids, "i", r);
        printf(" |");
        print_list(labels, "l", r);
        printf(" |");
        print_list(mask, "c", r);
        printf("\n");
    }
    out.release(&out);
    schema.release(&schema);
    fax_prompt_strategy_free(strategy);
    free(rows.offsets);
    free(rows.data);
    free(tokenizer_json);
    free(plan_json);
    free(messages);
    printf("all tokenization C ABI checks passed\n");
    return 0;
}
