// C++ out of memory for robust.sh: operator new throws std::bad_alloc, the
// nothrow form returns nullptr, a new-handler runs and can make room.
#include <cstdio>
#include <cstdlib>
#include <new>
#include <vector>

static char *reserve;
static int handler_calls;
static void release_reserve() {
  handler_calls++;
  if (reserve) {
    delete[] reserve;
    reserve = nullptr;
  } else {
    std::set_new_handler(nullptr);
  }
}

int main() {
  try {
    char *p = new char[(size_t)1 << 48];  // 256 TiB
    std::printf("new 256 TiB: returned %p\n", (void *)p);
  } catch (const std::bad_alloc &) {
    std::printf("new 256 TiB: bad_alloc\n");
  }
  char *q = new (std::nothrow) char[(size_t)1 << 48];
  std::printf("nothrow new 256 TiB: %s\n", q ? "a block" : "nullptr");
  // fill memory under the limit until new throws
  std::vector<char *> blocks;
  blocks.reserve(1 << 16);
  size_t mib = 0;
  try {
    for (;;) {
      char *b = new char[1 << 20];
      b[0] = 1;
      blocks.push_back(b);
      mib++;
      if (mib == (1 << 16)) break;
    }
    std::printf("filled: no bad_alloc after %zu MiB\n", mib);
  } catch (const std::bad_alloc &) {
    std::printf("filled: bad_alloc after some MiB\n");
  }
  for (char *b : blocks) delete[] b;
  blocks.clear();
  // a new-handler that frees a reserve, then gives up
  reserve = new char[1 << 20]; // (jemalloc under RLIMIT_AS: no larger range after the fill)
  std::set_new_handler(release_reserve);
  try {
    char *p = new char[(size_t)1 << 48];
    std::printf("new with handler: returned %p\n", (void *)p);
  } catch (const std::bad_alloc &) {
    std::printf("new with handler: bad_alloc after %d handler calls\n", handler_calls);
  }
  int *ok = new int[1000];
  ok[999] = 7;
  std::printf("after: new works %d\n", ok[999]);
  delete[] ok;
  std::printf("survived\n");
  return 0;
}
