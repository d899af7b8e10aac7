/* See log.h. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>

void log_event(const char *event, const char *fields_fmt, ...)
{
    struct timespec ts;
    va_list ap;
    clock_gettime(CLOCK_REALTIME, &ts);
    fprintf(stderr, "{\"ts\":%lld.%03ld,\"event\":\"%s\"", (long long)ts.tv_sec,
            ts.tv_nsec / 1000000L, event);
    if (fields_fmt != NULL && fields_fmt[0] != '\0') {
        fputc(',', stderr);
        va_start(ap, fields_fmt);
        vfprintf(stderr, fields_fmt, ap);
        va_end(ap);
    }
    fputs("}\n", stderr);
    fflush(stderr);
}
