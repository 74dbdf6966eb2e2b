/* Compiled by tests/test_boundary.py with -std=c99 -Wall -Werror against include/ and
 * linked to the built libfastaxo.so: proves the header is usable from plain C. */
#include <stdio.h>
#include <string.h>

#include "fastaxo.h"

static int failures = 0;

#define CHECK(cond)                                                    \
    do {                                                               \
        if (!(cond)) {                                                 \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__,   \
                    __LINE__, #cond);                                  \
            failures++;                                                \
        }                                                              \
    } while (0)

static void test_versions(void) {
    const char *version = fax_version_string();
    CHECK(fax_abi_version() == FAX_ABI_VERSION);
    CHECK(version != NULL && strlen(version) > 0);
    printf("libfastaxo %s, ABI %u\n", version, (unsigned)fax_abi_version());
}

static void test_pad_ok(void) {
    /* Two rows, [7, 8, 9] and [5], stored as int32 values + int64 offsets. */
    int32_t values[] = {7, 8, 9, 5};
    int64_t offsets[] = {0, 3, 4};
    FaxLists lists = {values, 4, FAX_DTYPE_INT32, offsets, 2, FAX_DTYPE_INT64};
    size_t width = 0;
    int64_t out[8];
    int64_t expected[] = {0, 7, 8, 9, 0, 0, 0, 5};

    CHECK(fax_pad_width(&lists, 0, 4, &width) == FAX_OK);
    CHECK(width == 4);
    CHECK(fax_pad_sequences(&lists, width, 0, FAX_PAD_LEFT, out, 8) == FAX_OK);
    CHECK(memcmp(out, expected, sizeof expected) == 0);
}

static void test_pad_error(void) {
    int64_t values[] = {1, 2};
    int64_t offsets[] = {0, 2};
    FaxLists lists = {values, 2, FAX_DTYPE_INT64, offsets, 1, FAX_DTYPE_INT64};
    int64_t out[2];
    char small[8];
    char full[256];
    size_t needed;

    /* An unknown padding side is refused, and the message says why. */
    CHECK(fax_pad_sequences(&lists, 2, 0, 7, out, 2) == FAX_ERR_INVALID_ARGUMENT);
    needed = fax_last_error_message(NULL, 0);
    CHECK(needed > 0 && needed < sizeof full);
    CHECK(fax_last_error_message(full, sizeof full) == needed);
    CHECK(strlen(full) == needed && strstr(full, "side") != NULL);
    /* A small buffer gets a NUL-terminated prefix; the full length is still returned. */
    CHECK(fax_last_error_message(small, sizeof small) == needed);
    CHECK(strlen(small) == sizeof small - 1 && strncmp(small, full, sizeof small - 1) == 0);
    printf("expected error: %s\n", full);

    /* A row longer than the width is never truncated. */
    CHECK(fax_pad_sequences(&lists, 1, 0, FAX_PAD_RIGHT, out, 1) == FAX_ERR_BUFFER_TOO_SMALL);
    CHECK(fax_pad_sequences(NULL, 1, 0, FAX_PAD_RIGHT, out, 1) == FAX_ERR_INVALID_ARGUMENT);
}

int main(void) {
    test_versions();
    test_pad_ok();
    test_pad_error();
    if (failures) {
        fprintf(stderr, "%d check(s) failed\n", failures);
        return 1;
    }
    printf("all C ABI checks passed\n");
    return 0;
}
