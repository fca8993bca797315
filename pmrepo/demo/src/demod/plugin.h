#ifndef DEMOD_PLUGIN_H
#define DEMOD_PLUGIN_H
/* Plugins for demod export this symbol. */
typedef const char *(*demod_plugin_fn)(const char *input);
#define DEMOD_PLUGIN_SYMBOL "demod_plugin_run"
#endif
