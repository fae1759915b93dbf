char *repeat_join(const char *s, int n);
