/* Every export of libfastaxo once or more, valid and invalid, including calls large enough to
 * run on the kernels' thread pools, and an Arrow C stream whose release callbacks count how
 * often the library releases what it took ownership of (exactly once each). Run under
 * valgrind by tests/test_memory.py and under AddressSanitizer by rust/fuzz/asan_c.sh. */

#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <string.h>
#include "fastaxo.h"

static int failures = 0;
#define CHECK(c) do { if (!(c)) { fprintf(stderr, "line %d: %s\n", __LINE__, #c); failures++; } } while (0)

static int releases = 0;  /* schema, array and stream release callbacks run */

static void release_schema(struct ArrowSchema *s) {
    for (int64_t i = 0; i < s->n_children; i++) s->children[i]->release(s->children[i]);
    free(s->children);
    s->release = NULL;
    releases++;
}
static void release_child_schema(struct ArrowSchema *s) { free(s); }
/* Children are freed by their parent's release; theirs only marks them released. */
static void release_child_array(struct ArrowArray *a) { a->release = NULL; }
static void release_array(struct ArrowArray *a) {
    for (int64_t i = 0; i < a->n_children; i++) {
        free((void *)a->children[i]->buffers[1]);
        free(a->children[i]->buffers);
        free(a->children[i]);
    }
    free(a->children);
    free(a->buffers);
    a->release = NULL;
    releases++;
}

struct batches { int left; int fail; };

static int get_schema(struct ArrowArrayStream *st, struct ArrowSchema *out) {
    struct batches *b = st->private_data;
    if (b->fail) return 5;  /* EIO: the library must report it and still release the stream */
    struct ArrowSchema *child = malloc(sizeof *child);
    *child = (struct ArrowSchema){"l", "x", NULL, ARROW_FLAG_NULLABLE, 0, NULL, NULL, release_child_schema, NULL};
    struct ArrowSchema **children = malloc(sizeof *children);
    children[0] = child;
    *out = (struct ArrowSchema){"+s", "", NULL, 0, 1, children, NULL, release_schema, NULL};
    return 0;
}

static int get_next(struct ArrowArrayStream *st, struct ArrowArray *out) {
    struct batches *b = st->private_data;
    if (b->left-- <= 0) { memset(out, 0, sizeof *out); return 0; }  /* end: released array */
    int64_t *values = malloc(4 * sizeof *values);
    for (int i = 0; i < 4; i++) values[i] = i % 2;  /* rows 0, 1, 0, 1: two duplicates */
    const void **child_buffers = malloc(2 * sizeof *child_buffers);
    child_buffers[0] = NULL;
    child_buffers[1] = values;
    struct ArrowArray *child = malloc(sizeof *child);
    *child = (struct ArrowArray){4, 0, 0, 2, 0, child_buffers, NULL, NULL, release_child_array, NULL};
    struct ArrowArray **children = malloc(sizeof *children);
    children[0] = child;
    const void **buffers = malloc(sizeof *buffers);
    buffers[0] = NULL;
    *out = (struct ArrowArray){4, 0, 0, 1, 1, buffers, children, NULL, release_array, NULL};
    return 0;
}

static const char *get_last_error(struct ArrowArrayStream *st) { (void)st; return "no schema today"; }
static void release_stream(struct ArrowArrayStream *st) { free(st->private_data); st->release = NULL; releases++; }

static struct ArrowArrayStream make_stream(int batches, int fail) {
    struct batches *b = malloc(sizeof *b);
    b->left = batches;
    b->fail = fail;
    return (struct ArrowArrayStream){get_schema, get_next, get_last_error, release_stream, b};
}

static void test_row_digests(void) {
    uint8_t digests[8 * 32];
    struct ArrowArrayStream stream = make_stream(2, 0);
    releases = 0;
    CHECK(fax_row_digests(&stream, NULL, 0, 0, digests, 8) == FAX_OK);
    CHECK(releases == 4);  /* the schema, two arrays, the stream */
    CHECK(memcmp(digests, digests + 2 * 32, 32) == 0 && memcmp(digests, digests + 32, 32) != 0);
    int64_t indices[] = {1, 7, 0};
    stream = make_stream(2, 0);
    CHECK(fax_row_digests(&stream, indices, 3, 1, digests, 3) == FAX_OK);
    CHECK(memcmp(digests, digests + 32, 32) == 0 && memcmp(digests, digests + 64, 32) != 0);  /* rows 1, 7, 0 */
    stream = make_stream(1, 1);
    releases = 0;
    CHECK(fax_row_digests(&stream, NULL, 0, 0, digests, 4) == FAX_ERR_FORMAT);
    CHECK(releases == 1);
    stream = make_stream(1, 0);
    CHECK(fax_row_digests(&stream, indices, 3, 0, digests, 3) == FAX_ERR_INVALID_ARGUMENT);  /* 7 > 3 */
    CHECK(fax_row_digests(NULL, NULL, 0, 0, digests, 0) == FAX_ERR_INVALID_ARGUMENT);
}

static void test_pad_and_pack(void) {
    enum { ROWS = 3000, LEN = 300 };  /* large enough for the thread pool */
    int32_t *values = malloc(ROWS * LEN * sizeof *values);
    int64_t offsets[ROWS + 1];
    for (int i = 0; i < ROWS * LEN; i++) values[i] = i;
    for (int i = 0; i <= ROWS; i++) offsets[i] = (int64_t)i * LEN - (i > 0 && i < ROWS ? i % 7 : 0);
    FaxLists lists = {values, ROWS * LEN, FAX_DTYPE_INT32, offsets, ROWS, FAX_DTYPE_INT64};
    size_t width = 0, rows = 0;
    CHECK(fax_pad_width(&lists, 0, 8, &width) == FAX_OK && width == 312);
    int64_t *out = malloc(ROWS * width * sizeof *out);
    CHECK(fax_pad_sequences(&lists, width, -1, FAX_PAD_LEFT, out, ROWS * width) == FAX_OK);
    CHECK(out[0] == -1 && out[width - 1] == LEN - 1 - 1);
    CHECK(fax_pad_sequences(&lists, width, 0, FAX_PAD_RIGHT, out, ROWS * width - 1) == FAX_ERR_INVALID_ARGUMENT);
    CHECK(fax_pad_sequences(&lists, 10, 0, FAX_PAD_RIGHT, out, ROWS * 10) == FAX_ERR_BUFFER_TOO_SMALL);

    CHECK(fax_pack_sequences_rows(&lists, 512, FAX_OVERFLOW_SPLIT, &rows) == FAX_OK && rows > 0);
    int64_t *packed = malloc(3 * rows * 512 * sizeof *packed);
    FaxPackCounts counts;
    CHECK(fax_pack_sequences(&lists, 512, 0, 2, -100, FAX_OVERFLOW_SPLIT, packed, packed + rows * 512,
                             packed + 2 * rows * 512, rows * 512, &counts) == FAX_OK);
    CHECK(fax_pack_sequences_rows(&lists, 100, FAX_OVERFLOW_ERROR, &rows) == FAX_ERR_INVALID_ARGUMENT);
    CHECK(fax_concatenate_rows(&lists, &lists, &lists, 4096, &rows) == FAX_OK);
    int64_t *cat = realloc(packed, 3 * rows * 4096 * sizeof *cat);
    CHECK(fax_concatenate_and_pack(&lists, &lists, &lists, 4096, 0, -100, cat, cat + rows * 4096,
                                   cat + 2 * rows * 4096, rows * 4096) == FAX_OK);

    int64_t lengths[ROWS], order[ROWS], bins[ROWS + 1];
    size_t num_bins = 0, oversize = 0;
    for (int i = 0; i < ROWS; i++) lengths[i] = offsets[i + 1] - offsets[i];
    CHECK(fax_pack_bins(lengths, ROWS, 1024, FAX_PACK_BEST_FIT_DECREASING, 0, 500, order, bins, &num_bins, &oversize) == FAX_OK);
    CHECK(fax_pack_bins(lengths, ROWS, 0, FAX_PACK_FIRST_FIT, 0, 0, order, bins, &num_bins, &oversize) == FAX_ERR_INVALID_ARGUMENT);
    CHECK(fax_pack_bins(lengths, ROWS, 1024, FAX_PACK_NEXT_FIT, 0, 0, order, bins, &num_bins, &oversize) == FAX_OK);
    int64_t *g = malloc(4 * num_bins * 1024 * sizeof *g);
    FaxGatherPads pads = {0, -100, 0, 0};
    size_t n = num_bins * 1024;
    CHECK(fax_gather_packed(&lists, NULL, order, ROWS, bins, num_bins, 1024, &pads, g, g + n, g + 2 * n, g + 3 * n, n) == FAX_OK);
    CHECK(fax_gather_packed(&lists, NULL, order, ROWS, bins, num_bins, 100, &pads, g, g + n, g + 2 * n, g + 3 * n, n) == FAX_ERR_BUFFER_TOO_SMALL);
    free(g);
    free(cat);
    free(out);
    free(values);
}

static void test_hash_and_seen(void) {
    enum { ROWS = 5000, LEN = 100 };
    uint8_t *text = malloc(ROWS * LEN);
    int64_t offsets[ROWS + 1];
    for (int i = 0; i < ROWS * LEN; i++) text[i] = (uint8_t)('a' + (i / LEN) % 50);
    for (int i = 0; i <= ROWS; i++) offsets[i] = (int64_t)i * LEN;
    FaxLists rows = {text, ROWS * LEN, FAX_DTYPE_UINT8, offsets, ROWS, FAX_DTYPE_INT64};
    uint8_t *digests = malloc(32 * ROWS);
    CHECK(fax_hash_rows(&rows, 0, digests, 32 * ROWS) == FAX_OK);
    CHECK(fax_hash_rows(&rows, 2, digests, 32 * ROWS - 1) == FAX_ERR_INVALID_ARGUMENT);
    char *hex = malloc(65 * ROWS);
    CHECK(fax_hash_hex(digests, ROWS, '\n', hex, 65 * ROWS - 1, 0) == FAX_OK);
    CHECK(fax_hash_hex(digests, ROWS, 0, hex, 65 * ROWS, 0) == FAX_ERR_INVALID_ARGUMENT);
    FaxSeen *seen = NULL;
    int64_t *kept = malloc(ROWS * sizeof *kept);
    size_t num_kept = 0, len = 0;
    CHECK(fax_seen_new(&seen) == FAX_OK);
    CHECK(fax_seen_insert(seen, digests, ROWS, kept, &num_kept) == FAX_OK && num_kept == 50);
    CHECK(fax_seen_insert(seen, digests, ROWS, kept, &num_kept) == FAX_OK && num_kept == 0);
    CHECK(fax_seen_len(seen, &len) == FAX_OK && len == 50);
    CHECK(fax_seen_insert(NULL, digests, 1, kept, &num_kept) == FAX_ERR_INVALID_ARGUMENT);
    fax_seen_free(seen);
    fax_seen_free(NULL);
    char small[4];
    CHECK(fax_last_error_message(small, sizeof small) > 3 && strlen(small) == 3);
    CHECK(fax_sha256_backend() != NULL);
    free(kept);
    free(hex);
    free(digests);
    free(text);
}

#ifdef FAX_ERR_NOT_FOUND /* a header with the streaming reader */
static long drain(struct ArrowArrayStream *s, int max_batches) {
    struct ArrowSchema schema;
    long rows = 0;
    CHECK(s->get_schema(s, &schema) == 0);
    schema.release(&schema);
    for (int i = 0; max_batches == 0 || i < max_batches; i++) {
        struct ArrowArray array;
        CHECK(s->get_next(s, &array) == 0);
        if (array.release == NULL) break;
        rows += array.length;
        array.release(&array);
    }
    s->release(s);
    return rows;
}

static void test_reader(void) {
    char path[256];
    const char *tmp = getenv("TMPDIR");
    snprintf(path, sizeof path, "%s/fastaxo_all_kernels_%ld.csv", tmp ? tmp : "/tmp", (long)getpid());
    FILE *f = fopen(path, "w");
    fprintf(f, "a,b\n");
    for (int i = 0; i < 5000; i++) fprintf(f, "%d,%.*s\n", i, i % 60, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
    fclose(f);
    const char *options = "{\"batch_size\": 100, \"num_threads\": 1}";
    const char *no_rows = "{\"batch_size\": 0}";
    struct ArrowArrayStream s;
    CHECK(fax_reader_open(path, options, strlen(options), &s) == FAX_OK && drain(&s, 0) == 5000);
    CHECK(fax_reader_open(path, NULL, 0, &s) == FAX_OK && drain(&s, 1) > 0);  /* abandoned early */
    CHECK(fax_reader_open("/nonexistent/fastaxo.csv", NULL, 0, &s) == FAX_ERR_NOT_FOUND);
    CHECK(fax_last_error_status() == FAX_ERR_NOT_FOUND);
    CHECK(fax_reader_open(path, no_rows, strlen(no_rows), &s) == FAX_ERR_INVALID_ARGUMENT);
    CHECK(fax_reader_open(path, "{\"batch\": 1}", 12, &s) == FAX_ERR_INVALID_ARGUMENT);  /* unknown key */
    int32_t format = -1, compression = -1;
    CHECK(fax_detect_format(path, &format, &compression) == FAX_OK);
    CHECK(strcmp(fax_format_name(format), "csv") == 0 && strcmp(fax_compression_name(compression), "none") == 0);
    remove(path);
}
#else
static void test_reader(void) {}
#endif

int main(void) {
    test_row_digests();
    test_pad_and_pack();
    test_hash_and_seen();
    test_reader();
    if (failures) return 1;
    printf("all kernels checked\n");
    return 0;
}
