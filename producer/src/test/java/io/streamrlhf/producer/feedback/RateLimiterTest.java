package io.streamrlhf.producer.feedback;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class RateLimiterTest {

    @Test
    void aBurstThenOneRequestPerRefillWithTheWaitUntilTheNext() {
        AtomicLong nanos = new AtomicLong(5_000_000_000_000L);
        RateLimiter limiter = new RateLimiter(4.0, 3, nanos::get);
        assertThat(limiter.acquire("a")).isZero();
        assertThat(limiter.acquire("a")).isZero();
        assertThat(limiter.acquire("a")).isZero();
        assertThat(limiter.acquire("a")).as("empty: one request refills in 250 ms").isEqualTo(250);
        assertThat(limiter.acquire("b")).as("callers are apart").isZero();
        nanos.addAndGet(100_000_000L);  // 0.4 of a request refilled
        assertThat(limiter.acquire("a")).isEqualTo(150);
        nanos.addAndGet(150_000_000L);
        assertThat(limiter.acquire("a")).isZero();
        nanos.addAndGet(10_000_000_000L);  // refills to the burst, not beyond
        for (int i = 0; i < 3; i++) {
            assertThat(limiter.acquire("a")).isZero();
        }
        assertThat(limiter.acquire("a")).isPositive();
    }
}
