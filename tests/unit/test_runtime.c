/* The raw fill and copy helpers: every length around the switch between
 * 16-byte vectors and rep stosb / rep movsb, at every alignment, write
 * exactly their range (padded buffers, compared byte by byte).  The last
 * test uses blocks of exactly the length, so under AddressSanitizer a read
 * or write past either end is a report. */
#include "internal.h"
#include "unit.h"

#define PAD 32

static void test_fill_writes_exactly_its_range(void) {
  static unsigned char buf[1200 + 2 * PAD];
  for (size_t n = 0; n <= 1100; n++) {
    for (size_t off = 0; off < 16; off++) {
      for (size_t i = 0; i < sizeof buf; i++) buf[i] = (unsigned char)(i * 7);
      cg_fill(buf + PAD + off, 0xf5, n);
      size_t bad = 0;
      for (size_t i = 0; i < sizeof buf; i++) {
        int inside = i >= PAD + off && i < PAD + off + n;
        bad += buf[i] != (inside ? 0xf5 : (unsigned char)(i * 7));
      }
      CHECK(bad == 0);
      if (bad) return;
    }
  }
}

static void test_copy_writes_exactly_its_range(void) {
  static unsigned char buf[1200 + 2 * PAD], src[1200];
  for (size_t i = 0; i < sizeof src; i++) src[i] = (unsigned char)(i * 13 + 1);
  for (size_t n = 0; n <= 1100; n++) {
    for (size_t off = 0; off < 16; off++) {
      for (size_t i = 0; i < sizeof buf; i++) buf[i] = (unsigned char)(i * 7);
      cg_copy(buf + PAD + off, src + (15 - off), n);
      size_t bad = 0;
      for (size_t i = 0; i < sizeof buf; i++) {
        int inside = i >= PAD + off && i < PAD + off + n;
        bad += buf[i] != (inside ? src[15 - off + i - PAD - off] : (unsigned char)(i * 7));
      }
      CHECK(bad == 0);
      if (bad) return;
    }
  }
}

/* Exactly-sized heap blocks: the sanitizer builds see any byte outside. */
static void test_exact_blocks(void) {
  for (size_t n = 1; n <= 600; n++) {
    unsigned char *d = malloc(n), *s = malloc(n);
    CHECK(d && s);
    if (!d || !s) return;
    for (size_t i = 0; i < n; i++) s[i] = (unsigned char)(i + n);
    cg_fill(d, 0xf5, n);
    size_t bad = 0;
    for (size_t i = 0; i < n; i++) bad += d[i] != 0xf5;
    cg_copy(d, s, n);
    for (size_t i = 0; i < n; i++) bad += d[i] != s[i];
    free(d);
    free(s);
    CHECK(bad == 0);
    if (bad) return;
  }
}

int main(void) {
  RUN(test_fill_writes_exactly_its_range);
  RUN(test_copy_writes_exactly_its_range);
  RUN(test_exact_blocks);
  return UNIT_END();
}
