#ifndef DEMO_H
#define DEMO_H
/* libdemo: a tiny library the demo daemon links against. */
const char *demo_version(void);
unsigned long demo_checksum(const char *text);
#endif
