#include <dlfcn.h>
#include <stdio.h>
#include <string.h>
#include <demo.h>
#include "plugin.h"

/* demod: prints its version, the library's, and runs plugins given as args. */
int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--version") == 0) {
        printf("demod %s (libdemo %s)\n", DEMOD_VERSION, demo_version());
        return 0;
    }
    for (int i = 1; i < argc; i++) {
        void *h = dlopen(argv[i], RTLD_NOW);
        if (!h) { fprintf(stderr, "demod: %s\n", dlerror()); return 1; }
        demod_plugin_fn fn = (demod_plugin_fn)dlsym(h, DEMOD_PLUGIN_SYMBOL);
        if (!fn) { fprintf(stderr, "demod: %s has no plugin symbol\n", argv[i]); return 1; }
        const char *out = fn("demo");
        printf("%s %lx\n", out, demo_checksum(out));
    }
    return 0;
}
