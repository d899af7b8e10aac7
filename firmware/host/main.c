/* vigil-virtual-oximeter: the device firmware's core on a POSIX host. Same topics, payloads,
 * buffering and reconnect behaviour as the ESP32 node; the PPG comes from a generator or a
 * recording instead of the MAX30102. See firmware/README.md for the options. */
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mosquitto.h>

#include "log.h"
#include "mqtt_posix.h"
#include "ppg_source.h"
#include "vigil/batch.h"
#include "vigil/encode.h"
#include "vigil/status.h"
#include "vigil/uplink.h"
#include "vigil/vitals.h"

#define FIRMWARE_VERSION "vigil-oximeter/0.1.0-host"
#define MAX_BUFFER 1024
#define MAX_TRACKED_SEQ 65536

typedef struct {
    const char *url, *device_id, *signal, *ca, *cert, *key;
    long batches, batch_readings, interval_ms, buffer_batches, max_inflight, backoff_max_ms;
    long timeout_s;
    double hr, spo2;
    unsigned long boot_id;
    int exit_when_drained;
} options_t;

static rb_slot_t slots[MAX_BUFFER];
static vitals_t vitals;
static vigil_batch_t batch;
static uint8_t enc[VIGIL_TELEMETRY_MAX_BYTES];
static uint8_t acked_seq[MAX_TRACKED_SEQ];
static volatile sig_atomic_t stop_requested;

static uint64_t clock_ms(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static void usage(void)
{
    fprintf(stderr,
            "usage: vigil-virtual-oximeter --url mqtt[s]://HOST:PORT --device-id ID\n"
            "  [--batches N] [--batch-samples K] [--interval-ms MS] [--hr BPM] [--spo2 PCT]\n"
            "  [--signal FILE|generator] [--buffer-batches N] [--max-inflight N]\n"
            "  [--backoff-max-ms MS] [--exit-when-drained] [--timeout-s S] [--boot-id N]\n"
            "  [--ca FILE --cert FILE --key FILE]\n");
}

static int parse_options(int argc, char **argv, options_t *o)
{
    static const struct option longopts[] = {
        {"url", required_argument, NULL, 'u'},          {"device-id", required_argument, NULL, 'd'},
        {"batches", required_argument, NULL, 'n'},      {"batch-samples", required_argument, NULL, 'k'},
        {"interval-ms", required_argument, NULL, 'i'},  {"hr", required_argument, NULL, 'h'},
        {"spo2", required_argument, NULL, 's'},         {"signal", required_argument, NULL, 'g'},
        {"buffer-batches", required_argument, NULL, 'b'}, {"max-inflight", required_argument, NULL, 'm'},
        {"backoff-max-ms", required_argument, NULL, 'B'}, {"exit-when-drained", no_argument, NULL, 'x'},
        {"timeout-s", required_argument, NULL, 't'},    {"boot-id", required_argument, NULL, 'I'},
        {"ca", required_argument, NULL, 'C'},           {"cert", required_argument, NULL, 'c'},
        {"key", required_argument, NULL, 'K'},          {NULL, 0, NULL, 0}};
    int c;
    memset(o, 0, sizeof *o);
    o->signal = "generator";
    o->batch_readings = 10;
    o->interval_ms = -1;
    o->hr = 72.0;
    o->spo2 = 97.0;
    o->buffer_batches = 64;
    o->max_inflight = 8;
    o->backoff_max_ms = 30000;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case 'u': o->url = optarg; break;
        case 'd': o->device_id = optarg; break;
        case 'n': o->batches = strtol(optarg, NULL, 10); break;
        case 'k': o->batch_readings = strtol(optarg, NULL, 10); break;
        case 'i': o->interval_ms = strtol(optarg, NULL, 10); break;
        case 'h': o->hr = strtod(optarg, NULL); break;
        case 's': o->spo2 = strtod(optarg, NULL); break;
        case 'g': o->signal = optarg; break;
        case 'b': o->buffer_batches = strtol(optarg, NULL, 10); break;
        case 'm': o->max_inflight = strtol(optarg, NULL, 10); break;
        case 'B': o->backoff_max_ms = strtol(optarg, NULL, 10); break;
        case 'x': o->exit_when_drained = 1; break;
        case 't': o->timeout_s = strtol(optarg, NULL, 10); break;
        case 'I': o->boot_id = strtoul(optarg, NULL, 10); break;
        case 'C': o->ca = optarg; break;
        case 'c': o->cert = optarg; break;
        case 'K': o->key = optarg; break;
        default: return -1;
        }
    }
    if (o->url == NULL || o->device_id == NULL || !vigil_device_id_valid(o->device_id) ||
        o->batches < 0 || o->batches > MAX_TRACKED_SEQ || o->batch_readings < 1 ||
        o->batch_readings > VIGIL_BATCH_MAX_READINGS || o->buffer_batches < 1 ||
        o->buffer_batches > MAX_BUFFER || o->max_inflight < 1 || o->hr < 20 || o->hr > 300 ||
        o->spo2 < 50 || o->spo2 > 100 || o->backoff_max_ms < 500) {
        return -1;
    }
    if (o->interval_ms < 0) {
        o->interval_ms = o->batch_readings * 1000; /* real time */
    }
    return 0;
}

static uint32_t random_boot_id(void)
{
    uint32_t id = 0;
    FILE *f = fopen("/dev/urandom", "rb");
    if (f != NULL) {
        if (fread(&id, sizeof id, 1, f) != 1) {
            id = 0;
        }
        fclose(f);
    }
    return id != 0 ? id : (uint32_t)clock_ms(CLOCK_REALTIME) | 1u;
}

typedef struct {
    const options_t *o;
    uint32_t boot_id;
    uint32_t seq;
    int64_t t0_ms;       /* wall-clock time of signal sample 0 */
    signal_src_t src;
    ringbuf_t rb;
    uint64_t samples, readings, valid_readings;
} device_t;

/* Reads the signal until K readings are out, then encodes the batch into the ring buffer. */
static int produce_batch(device_t *d)
{
    vitals_reading_t r;
    int64_t t = 0;
    batch_begin(&batch, d->o->device_id, d->boot_id, d->seq,
                d->t0_ms + (int64_t)vitals.count * 1000 / VITALS_FS_HZ);
    for (long got = 0; got < d->o->batch_readings;) {
        uint32_t red, ir;
        if (signal_next(&d->src, &red, &ir) != 0) {
            return -1;
        }
        if (vitals_push(&vitals, red, ir, &r)) {
            t = d->t0_ms + ((int64_t)r.sample_index + 1) * 1000 / VITALS_FS_HZ;
            batch_add_reading(&batch, &r, t);
            d->readings++;
            d->valid_readings += r.valid;
            got++;
        }
    }
    /* A simulated cell that loses 0.1 % per batch. */
    double battery = 100.0 - 0.1 * (double)(d->seq % 900);
    batch_add(&batch, vigil_v1_Metric_METRIC_BATTERY, t, battery, 100);
    if (rb_make_room(&d->rb)) {
        log_event("buffer_drop", "\"dropped_batches\":%" PRIu32, d->rb.dropped);
    }
    batch.dropped_batches = d->rb.dropped;
    size_t len = 0;
    if (vigil_encode_telemetry(&batch, enc, sizeof enc, &len) != 0 ||
        !rb_push(&d->rb, d->seq, enc, len)) {
        return -1;
    }
    d->samples += batch.samples_count;
    log_event("batch", "\"seq\":%" PRIu32 ",\"samples\":%u,\"bytes\":%zu,\"buffered\":%zu", d->seq,
              (unsigned)batch.samples_count, len, rb_count(&d->rb));
    d->seq++;
    return 0;
}

static void on_ack(void *ctx, int mid)
{
    device_t *d = ctx;
    rb_slot_t *s = rb_find_inflight(&d->rb, mid);
    if (s != NULL && s->seq < MAX_TRACKED_SEQ) {
        acked_seq[s->seq]++;
    }
}

static void publish_status(mqtt_posix_t *mq, const device_t *d, bool online, uint64_t start)
{
    vigil_v1_DeviceStatus st;
    uint8_t buf[VIGIL_STATUS_MAX_BYTES];
    size_t len = 0;
    int mid;
    vigil_status_build(&st, d->o->device_id, online, FIRMWARE_VERSION, -1.0f, 0,
                       (int64_t)clock_ms(CLOCK_REALTIME), d->boot_id,
                       (uint32_t)((clock_ms(CLOCK_MONOTONIC) - start) / 1000u));
    if (vigil_encode_status(&st, buf, sizeof buf, &len) == 0) {
        mqtt_posix_publish(mq, mq->up->topic_status, buf, len, true, &mid);
    }
}

static void print_summary(const device_t *d, const uplink_t *up, bool drained)
{
    uint32_t acked = 0, dup = 0, first_missing = d->seq;
    for (uint32_t s = 0; s < d->seq && s < MAX_TRACKED_SEQ; s++) {
        acked += acked_seq[s] > 0;
        dup += acked_seq[s] > 1 ? acked_seq[s] - 1u : 0u;
        if (acked_seq[s] == 0 && first_missing == d->seq) {
            first_missing = s;
        }
    }
    printf("{\"event\":\"summary\",\"device_id\":\"%s\",\"boot_id\":%" PRIu32
           ",\"batches\":%" PRIu32 ",\"acked_batches\":%" PRIu32 ",\"reacked\":%" PRIu32
           ",\"first_unacked_seq\":%" PRIu32 ",\"samples\":%" PRIu64 ",\"readings\":%" PRIu64
           ",\"valid_readings\":%" PRIu64 ",\"dropped_batches\":%" PRIu32
           ",\"published\":%" PRIu32 ",\"connects\":%" PRIu32 ",\"disconnects\":%" PRIu32
           ",\"drained\":%s}\n",
           d->o->device_id, d->boot_id, d->seq, acked, dup, first_missing, d->samples, d->readings,
           d->valid_readings, d->rb.dropped, up->published, up->connects, up->disconnects,
           drained ? "true" : "false");
    fflush(stdout);
}

int main(int argc, char **argv)
{
    options_t o;
    device_t d;
    uplink_t up;
    mqtt_posix_t mq;
    uint8_t will[VIGIL_STATUS_MAX_BYTES];
    vigil_v1_DeviceStatus will_msg;

    if (parse_options(argc, argv, &o) != 0) {
        usage();
        return 2;
    }
    memset(&d, 0, sizeof d);
    memset(&mq, 0, sizeof mq);
    d.o = &o;
    d.boot_id = o.boot_id != 0 ? (uint32_t)o.boot_id : random_boot_id();
    /* Signal time 0 lies one warm-up window plus one batch in the past, so that in real-time
     * mode every reading is already in the past when its batch is published (as on the device,
     * which publishes what it has measured). A faster --interval-ms runs ahead of the clock. */
    d.t0_ms = (int64_t)clock_ms(CLOCK_REALTIME) -
              (int64_t)(VITALS_WINDOW_N + VITALS_WARMUP_N) * 1000 / VITALS_FS_HZ -
              (int64_t)o.batch_readings * 1000;
    if (signal_open(&d.src, o.signal, o.hr, o.spo2, d.boot_id) != 0) {
        fprintf(stderr, "cannot open signal %s\n", o.signal);
        return 2;
    }
    vitals_init(&vitals);
    rb_init(&d.rb, slots, (size_t)o.buffer_batches);
    uplink_transport_t tx = {mqtt_posix_publish, &mq};
    uplink_init(&up, &d.rb, tx, o.device_id, (size_t)o.max_inflight, d.boot_id);
    up.backoff.max_ms = (uint32_t)o.backoff_max_ms;
    if (mqtt_posix_parse_url(&mq, o.url) != 0) {
        fprintf(stderr, "bad --url %s\n", o.url);
        return 2;
    }
    snprintf(mq.client_id, sizeof mq.client_id, "%s", o.device_id);
    mq.cafile = o.ca;
    mq.certfile = o.cert;
    mq.keyfile = o.key;
    mq.up = &up;
    mq.on_ack = on_ack;
    mq.on_ack_ctx = &d;
    size_t will_len = 0;
    vigil_status_build(&will_msg, o.device_id, false, FIRMWARE_VERSION, -1.0f, 0, 0, d.boot_id, 0);
    vigil_encode_status(&will_msg, will, sizeof will, &will_len);
    mq.will = will;
    mq.will_len = will_len;

    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    mosquitto_lib_init();
    log_event("start", "\"device_id\":\"%s\",\"boot_id\":%" PRIu32 ",\"batches\":%ld",
              o.device_id, d.boot_id, o.batches);

    uint64_t start = clock_ms(CLOCK_MONOTONIC);
    uint64_t next_batch = start;
    bool drained = false;
    int rc = 0;
    while (!stop_requested) {
        uint64_t now = clock_ms(CLOCK_MONOTONIC);
        if ((o.batches == 0 || d.seq < (uint32_t)o.batches) && now >= next_batch) {
            if (produce_batch(&d) != 0) {
                log_event("signal_error", "\"seq\":%" PRIu32, d.seq);
                rc = 1;
                break;
            }
            next_batch += (uint64_t)o.interval_ms;
        }
        if (uplink_connect_due(&up, now)) {
            if (mqtt_posix_connect(&mq, 3000) == 0) {
                uplink_connected(&up);
                publish_status(&mq, &d, true, start);
                log_event("connected", "\"buffered\":%zu", rb_count(&d.rb));
            } else {
                mqtt_posix_close(&mq);
                uint32_t delay = uplink_connect_failed(&up, clock_ms(CLOCK_MONOTONIC));
                log_event("connect_failed", "\"retry_in_ms\":%" PRIu32, delay);
            }
        }
        if (up.connected) {
            uplink_pump(&up);
            if (mqtt_posix_loop(&mq, 20) != 0) {
                mqtt_posix_close(&mq);
                uint32_t delay = uplink_disconnected(&up, clock_ms(CLOCK_MONOTONIC));
                log_event("disconnected", "\"buffered\":%zu,\"retry_in_ms\":%" PRIu32,
                          rb_count(&d.rb), delay);
            }
        } else {
            struct timespec ts = {0, 20 * 1000000L};
            nanosleep(&ts, NULL);
        }
        drained = uplink_drained(&up);
        if (o.batches > 0 && d.seq == (uint32_t)o.batches && drained) {
            break;
        }
        if (o.exit_when_drained && d.seq > 0 && drained) {
            break;
        }
        if (o.timeout_s > 0 && now - start > (uint64_t)o.timeout_s * 1000u) {
            log_event("timeout", "\"buffered\":%zu", rb_count(&d.rb));
            rc = 3;
            break;
        }
    }
    if (up.connected) {
        publish_status(&mq, &d, false, start);
        for (int i = 0; i < 10; i++) {
            mqtt_posix_loop(&mq, 20);
        }
    }
    mqtt_posix_close(&mq);
    mosquitto_lib_cleanup();
    signal_close(&d.src);
    print_summary(&d, &up, drained);
    log_event("exit", "\"rc\":%d", rc);
    return rc;
}
