#include <stdio.h>
#include <demod/plugin.h>

/* A demod plugin: built against demod-devel's header. */
const char *demod_plugin_run(const char *input)
{
    static char answer[128];
    snprintf(answer, sizeof answer, "hello %s from demo-plugin", input);
    return answer;
}
