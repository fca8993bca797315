#include <demod/plugin.h>

/* A demod plugin: built against demod-devel's header. */
const char *demod_plugin_run(const char *input)
{
    (void)input;
    return "hello from demo-plugin";
}
