#include <stdlib.h>
#include "demo.h"

/* LIBDEMO_VERSION_OVERRIDE lets tests see which library a program loaded. */
const char *demo_version(void)
{
    const char *override = getenv("LIBDEMO_VERSION_OVERRIDE");
    return override ? override : LIBDEMO_VERSION;
}

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
