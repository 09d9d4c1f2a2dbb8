package io.streamrlhf.producer.feedback;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * A token bucket per caller (an API token, or the client address when the API is open): {@code burst} requests at
 * once, refilled at {@code perSecond}. Written here because none of the build's libraries has one and it is a few
 * lines; the number of callers tracked is bounded (least recently seen dropped first).
 */
final class RateLimiter {

    private static final int MAX_CALLERS = 10_000;

    private final double perSecond;
    private final double burst;
    private final LongSupplier nanos;
    private final Map<String, Bucket> buckets = new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Bucket> eldest) {
            return size() > MAX_CALLERS;
        }
    };

    /** A caller's requests in hand and when they were last counted. */
    private static final class Bucket {
        double tokens;
        long at;

        Bucket(double tokens, long at) {
            this.tokens = tokens;
            this.at = at;
        }
    }

    RateLimiter(double perSecond, int burst, LongSupplier nanos) {
        if (!(perSecond > 0) || burst < 1) {
            throw new IllegalArgumentException("rate limit must be > 0 per second with a burst >= 1, got "
                    + perSecond + "/s burst " + burst);
        }
        this.perSecond = perSecond;
        this.burst = burst;
        this.nanos = nanos;
    }

    /** Takes one request's worth for {@code caller}: 0 when allowed, else the milliseconds until one is. */
    synchronized long acquire(String caller) {
        long now = nanos.getAsLong();
        Bucket b = buckets.computeIfAbsent(caller, k -> new Bucket(burst, now));
        b.tokens = Math.min(burst, b.tokens + (now - b.at) / 1e9 * perSecond);
        b.at = now;
        if (b.tokens >= 1) {
            b.tokens -= 1;
            return 0;
        }
        return (long) Math.ceil((1 - b.tokens) / perSecond * 1000);
    }
}
