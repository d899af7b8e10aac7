# Sources of the portable core, shared by the ESP-IDF component and the host library.
set(VIGIL_CORE_SOURCES
  src/max30102.c src/filter.c src/beat.c src/spo2.c src/sqi.c src/vitals.c src/batch.c
  src/ringbuf.c src/backoff.c src/topics.c src/encode.c src/status.c src/uplink.c)
