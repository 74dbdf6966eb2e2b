/* Encodes texts through the tokenizer C ABI alone, as a program in another language would:
 * usage: test_tokenizer TOKENIZER_JSON_FILE TEXTS_FILE
 * TEXTS_FILE holds one text per line (the line break is not part of it). The program checks
 * that fax_tokenizer_info reports the fast engine, sends the texts to fax_tokenizer_encode
 * as an Arrow C stream of two batches of one utf8 column (so the output must put the
 * batches back in order), once without and once with offsets, and prints per text
 *     ids ROW: ID ...
 *     spans ROW: ID ... | START:END ...
 * It also checks the error paths: a JSON that is not a tokenizer, a buffer too small for
 * the info, a null text. tests/test_tokenizer.py compares what it prints with the Python
 * binding and with the `tokenizers` package. */
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

static void expect(int condition, const char *what) {
    if (!condition) {
        fprintf(stderr, "check failed: %s\n", what);
        exit(1);
    }
}

/* --- texts, and an Arrow C stream of them in batches of one utf8 column "text" ----------- */

struct texts {
    int64_t length;
    int32_t *offsets; /* length + 1 */
    char *data;
};

/* One text per line of `file` (the line break is not part of it). */
static struct texts split_lines(const char *file, size_t len) {
    struct texts texts = {0};
    for (size_t i = 0; i < len; i++) texts.length += file[i] == '\n';
    texts.offsets = malloc(sizeof(int32_t) * (size_t)(texts.length + 1));
    texts.data = malloc(len + 1);
    size_t written = 0;
    int64_t row = 0;
    texts.offsets[0] = 0;
    for (size_t i = 0; i < len; i++) {
        if (file[i] == '\n') texts.offsets[++row] = (int32_t)written;
        else texts.data[written++] = file[i];
    }
    return texts;
}

/* The stream's state: batch k holds texts bounds[k] .. bounds[k + 1]. `validity`, if not
 * NULL, is the Arrow validity bitmap of all the texts (a 0 bit is a null text; without it
 * the null count must be 0). */
struct source {
    const struct texts *texts;
    const uint8_t *validity;
    int64_t bounds[3];
    int n_batches;
    int next;
};

static void release_child_schema(struct ArrowSchema *schema) { schema->release = NULL; }

static void release_schema(struct ArrowSchema *schema) {
    for (int64_t i = 0; i < schema->n_children; i++) {
        schema->children[i]->release(schema->children[i]);
        free(schema->children[i]);
    }
    free(schema->children);
    schema->release = NULL;
}

static int get_schema(struct ArrowArrayStream *stream, struct ArrowSchema *out) {
    (void)stream;
    struct ArrowSchema *child = calloc(1, sizeof *child);
    *child = (struct ArrowSchema){.format = "u", .name = "text", .flags = ARROW_FLAG_NULLABLE,
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

/* Batch k shares the buffers of all the texts and picks its own by the child's `offset` and
 * `length`: no copy, and the reader must honour `offset`. */
static int get_next(struct ArrowArrayStream *stream, struct ArrowArray *out) {
    struct source *source = stream->private_data;
    if (source->next == source->n_batches) {
        out->release = NULL; /* the end of the stream */
        return 0;
    }
    int64_t start = source->bounds[source->next], end = source->bounds[source->next + 1];
    source->next++;
    struct batch_data *d = calloc(1, sizeof *d);
    d->child_buffers[0] = source->validity;
    d->child_buffers[1] = source->texts->offsets;
    d->child_buffers[2] = source->texts->data;
    d->child = (struct ArrowArray){.length = end - start, .offset = start,
                                   .null_count = source->validity ? -1 : 0, .n_buffers = 3,
                                   .buffers = d->child_buffers, .release = release_child_array};
    d->children[0] = &d->child;
    *out = (struct ArrowArray){.length = end - start, .n_buffers = 1, .buffers = d->struct_buffers,
                               .n_children = 1, .children = d->children, .release = release_array,
                               .private_data = d};
    return 0;
}

static const char *get_last_error(struct ArrowArrayStream *stream) {
    (void)stream;
    return NULL;
}

static void release_stream(struct ArrowArrayStream *stream) { stream->release = NULL; }

/* A stream of `texts` in two batches, split before text `split` (one batch if that is 0 or
 * past the end). */
static struct ArrowArrayStream stream_of(struct source *source, const struct texts *texts,
                                         const uint8_t *validity, int64_t split) {
    *source = (struct source){.texts = texts, .validity = validity};
    int two = split > 0 && split < texts->length;
    source->n_batches = two ? 2 : 1;
    source->bounds[0] = 0;
    source->bounds[1] = two ? split : texts->length;
    source->bounds[2] = texts->length;
    return (struct ArrowArrayStream){.get_schema = get_schema, .get_next = get_next,
                                     .get_last_error = get_last_error, .release = release_stream,
                                     .private_data = source};
}

/* --- encoding and printing --------------------------------------------------------------- */

static void check_list_type(const struct ArrowSchema *schema, const char *values_format) {
    expect(strcmp(schema->format, "+l") == 0 && schema->n_children == 1, "the output is a list array");
    expect(strcmp(schema->children[0]->format, values_format) == 0, "the list values have the documented type");
}

/* The range of list `row` of `list` in its values array. */
static void list_range(const struct ArrowArray *list, int64_t row, int64_t *start, int64_t *end) {
    const int32_t *offsets = list->buffers[1];
    *start = list->children[0]->offset + offsets[list->offset + row];
    *end = list->children[0]->offset + offsets[list->offset + row + 1];
}

static void print_ids(const struct ArrowArray *ids, int64_t row) {
    const int32_t *values = ids->children[0]->buffers[1];
    int64_t start, end;
    list_range(ids, row, &start, &end);
    for (int64_t i = start; i < end; i++) printf(" %d", values[i]);
}

/* Offsets are list<fixed_size_list<int64, 2>>: the pairs' int64 values are their child. */
static void print_spans(const struct ArrowArray *spans, int64_t row) {
    const struct ArrowArray *pairs = spans->children[0];
    const int64_t *values = pairs->children[0]->buffers[1];
    int64_t start, end;
    list_range(spans, row, &start, &end);
    for (int64_t i = start; i < end; i++) {
        int64_t at = pairs->children[0]->offset + 2 * i;
        printf(" %lld:%lld", (long long)values[at], (long long)values[at + 1]);
    }
}

static void encode(const struct FaxTokenizer *tokenizer, const struct texts *texts, int offsets) {
    struct source source;
    struct ArrowArrayStream stream = stream_of(&source, texts, NULL, texts->length / 2);
    const char *options = offsets ? "{\"offsets\": true}" : "{\"offsets\": false}";
    struct ArrowArray ids, spans;
    struct ArrowSchema ids_schema, spans_schema;
    if (fax_tokenizer_encode(tokenizer, &stream, options, strlen(options), &ids, &ids_schema,
                             offsets ? &spans : NULL, offsets ? &spans_schema : NULL))
        fail("fax_tokenizer_encode");
    expect(stream.release == NULL, "the stream is released");
    expect(ids.length == texts->length, "one list of ids per text");
    check_list_type(&ids_schema, "i");
    if (offsets) {
        expect(spans.length == texts->length, "one list of spans per text");
        check_list_type(&spans_schema, "+w:2");
        expect(strcmp(spans_schema.children[0]->children[0]->format, "l") == 0, "spans are int64 pairs");
    }
    for (int64_t row = 0; row < texts->length; row++) {
        printf("%s %lld:", offsets ? "spans" : "ids", (long long)row);
        print_ids(&ids, row);
        if (offsets) {
            printf(" |");
            print_spans(&spans, row);
        }
        printf("\n");
    }
    ids.release(&ids);
    ids_schema.release(&ids_schema);
    if (offsets) {
        spans.release(&spans);
        spans_schema.release(&spans_schema);
    }
}

/* --- checks -------------------------------------------------------------------------------- */

static void check_info(const struct FaxTokenizer *tokenizer) {
    char small[4];
    size_t needed = 0;
    expect(fax_tokenizer_info(tokenizer, small, sizeof small, &needed) == FAX_ERR_BUFFER_TOO_SMALL,
           "a small info buffer is FAX_ERR_BUFFER_TOO_SMALL");
    char *info = malloc(needed + 1);
    size_t len = 0;
    if (fax_tokenizer_info(tokenizer, info, needed, &len)) fail("fax_tokenizer_info");
    expect(len == needed, "the info length is the size asked for");
    info[len] = 0;
    expect(strstr(info, "\"engine\":\"fast\"") && strstr(info, "\"reason\":null"), info);
    free(info);
}

static void check_bad_json(void) {
    struct FaxTokenizer *tokenizer = NULL;
    const char *bad_json = "{\"not\": \"a tokenizer\"}";
    expect(fax_tokenizer_new(bad_json, strlen(bad_json), NULL, 0, &tokenizer) == FAX_ERR_FORMAT && !tokenizer,
           "a JSON that is not a tokenizer is FAX_ERR_FORMAT");
}

/* The first three texts, the second one null: an error naming it, and the stream released
 * all the same. */
static void check_null_text(const struct FaxTokenizer *tokenizer, const struct texts *texts) {
    expect(texts->length >= 3, "TEXTS_FILE holds at least three texts");
    uint8_t validity[1] = {0x01 | 0x04}; /* texts 0 and 2 valid, 1 null, in the first batch */
    struct texts three = *texts;
    three.length = 3;
    struct source source;
    struct ArrowArrayStream stream = stream_of(&source, &three, validity, 0);
    struct ArrowArray ids;
    struct ArrowSchema ids_schema;
    expect(fax_tokenizer_encode(tokenizer, &stream, NULL, 0, &ids, &ids_schema, NULL, NULL) ==
               FAX_ERR_INVALID_ARGUMENT, "a null text is FAX_ERR_INVALID_ARGUMENT");
    expect(stream.release == NULL, "the stream is released after an error");
    char message[512];
    fax_last_error_message(message, sizeof message);
    expect(strstr(message, "text 1") != NULL, message);
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s TOKENIZER_JSON TEXTS_FILE\n", argv[0]);
        return 2;
    }
    check_bad_json();
    size_t json_len, file_len;
    char *json = read_file(argv[1], &json_len);
    char *file = read_file(argv[2], &file_len);
    struct FaxTokenizer *tokenizer = NULL;
    if (fax_tokenizer_new(json, json_len, NULL, 0, &tokenizer)) fail("fax_tokenizer_new");
    check_info(tokenizer);

    struct texts texts = split_lines(file, file_len);
    encode(tokenizer, &texts, 0);
    encode(tokenizer, &texts, 1);
    check_null_text(tokenizer, &texts);

    fax_tokenizer_free(tokenizer);
    free(texts.offsets);
    free(texts.data);
    free(json);
    free(file);
    printf("all tokenizer C ABI checks passed\n");
    return 0;
}
