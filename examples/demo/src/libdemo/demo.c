#include "demo.h"

const char *demo_version(void) { return LIBDEMO_VERSION; }

/* FNV-1a: enough real code for a debuginfo package to describe. */
unsigned long demo_checksum(const char *text)
{
    unsigned long h = 1469598103934665603UL;
    for (; *text; text++) {
        h ^= (unsigned char)*text;
        h *= 1099511628211UL;
    }
    return h;
}
