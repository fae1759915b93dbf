// C++ allocation through operator new/delete.  "ok" is a correct program
// (its output must not change under the shim); "delete-twice" deletes one
// object twice, through a noinline helper so the compiler keeps it.
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <vector>

struct Node {
	int value;
	std::string name;
	Node(int v, std::string n) : value(v), name(std::move(n)) {}
};

// Trivially destructible, so the second delete runs no destructor on the
// freed (poisoned) memory: the only bug is the second operator delete.
struct Pod {
	long a[6];
};

__attribute__((noinline)) void destroy(Pod *volatile p) { delete p; }

static int ok()
{
	std::vector<std::unique_ptr<Node>> nodes;
	std::map<std::string, int> counts;
	for (int i = 0; i < 5000; i++) {
		nodes.emplace_back(new Node(i, "node-" + std::to_string(i % 97)));
		counts[nodes.back()->name] += i;
	}
	long sum = 0;
	for (auto &n : nodes)
		sum += n->value;
	nodes.clear();
	int *arr = new int[1000];
	for (int i = 0; i < 1000; i++)
		arr[i] = i;
	sum += arr[999];
	delete[] arr;
	std::printf("cxx ok sum=%ld keys=%zu first=%d\n", sum, counts.size(), counts["node-0"]);
	return 0;
}

static int delete_twice()
{
	Pod *p = new Pod();
	p->a[0] = 7;
	destroy(p);
	destroy(p);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return 64;
	std::puts("start");
	std::fflush(stdout);
	int rc = std::strcmp(argv[1], "ok") == 0 ? ok() : delete_twice();
	std::puts("survived");
	return rc;
}
