/* One JSON object per line on stderr (event + fields). Never health values: ids and counts. */
#ifndef VIGIL_HOST_LOG_H
#define VIGIL_HOST_LOG_H

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
void log_event(const char *event, const char *fields_fmt, ...);

#endif
