package io.streamrlhf.rewardstream.scoring.remote;

import io.github.resilience4j.circuitbreaker.CallNotPermittedException;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;
import io.github.resilience4j.core.IntervalBiFunction;
import io.github.resilience4j.core.IntervalFunction;
import io.github.resilience4j.retry.Retry;
import io.github.resilience4j.retry.RetryConfig;
import io.github.resilience4j.core.functions.CheckedSupplier;
import io.streamrlhf.rewardstream.scoring.SourceUnavailableException;
import java.io.IOException;
import java.net.http.HttpHeaders;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The circuit breaker and retry policy every remote scorer (judges, reward servers) calls through, so they fail the
 * same way: a failed attempt (timeout, I/O error, HTTP 429 or 5xx) is retried with exponential backoff, or after the
 * server's {@code Retry-After} when it is longer; every attempt passes a breaker that opens after N consecutive
 * failures and refuses calls at once until one trial call after the open period.
 */
public final class CallGuards {
    /** Longest {@code Retry-After} honoured; a server asking for more is waited on this long. */
    static final long MAX_RETRY_AFTER_MS = 60_000;

    private CallGuards() {
    }

    /** A breaker that opens when the last {@code failures} calls all failed, for {@code open}. */
    public static CircuitBreaker breaker(String name, int failures, Duration open) {
        return CircuitBreaker.of(name, CircuitBreakerConfig.custom()
                // Opens when the last N calls all failed: a count window of N with a 100% threshold.
                .slidingWindowType(CircuitBreakerConfig.SlidingWindowType.COUNT_BASED)
                .slidingWindowSize(failures)
                .minimumNumberOfCalls(failures)
                .failureRateThreshold(100f)
                .waitDurationInOpenState(open)
                .permittedNumberOfCallsInHalfOpenState(1)
                .build());
    }

    /** Up to {@code retries} retries of retryable failures, waiting {@code backoff} doubling (or Retry-After). */
    public static Retry retry(String name, int retries, Duration backoff) {
        IntervalFunction base = backoff.isZero() ? IntervalFunction.of(1L)
                : IntervalFunction.ofExponentialBackoff(backoff.toMillis(), 2.0);
        IntervalBiFunction<Object> wait = (attempt, outcome) -> {
            long millis = base.apply(attempt);
            if (outcome != null && outcome.isLeft() && outcome.getLeft() instanceof EndpointHttpException http) {
                millis = Math.max(millis, Math.min(http.retryAfterMillis(), MAX_RETRY_AFTER_MS));
            }
            return millis;
        };
        return Retry.of(name, RetryConfig.custom()
                .maxAttempts(retries + 1)
                .intervalBiFunction(wait)
                .retryOnException(CallGuards::retryable)
                .build());
    }

    /** Whether another attempt may succeed: I/O errors and timeouts, HTTP 429 and 5xx; never an open breaker. */
    public static boolean retryable(Throwable t) {
        if (t instanceof CallNotPermittedException) {
            return false; // the breaker is open: retrying now only waits for nothing
        }
        if (t instanceof EndpointHttpException http) {
            return http.retryable();
        }
        return t instanceof IOException;
    }

    /** A fixed pool of {@code threads} daemon threads named {@code PREFIX-N}, for a source's concurrent calls. */
    public static ExecutorService daemonPool(String prefix, int threads) {
        AtomicInteger count = new AtomicInteger();
        return Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(r, prefix + "-" + count.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
    }

    /**
     * Submits {@code call} to {@code pool}, rethrowing what it throws as an exception the future carries.
     */
    public static <T> Future<T> submit(ExecutorService pool, CheckedSupplier<T> call) {
        return pool.submit(() -> {
            try {
                return call.get();
            } catch (Throwable t) {
                throw t instanceof Exception e ? e : new RuntimeException(t);
            }
        });
    }

    /**
     * Every result, in order, or {@link SourceUnavailableException} for source {@code name} when any call failed
     * (naming the first failure and {@code endpoint}; "circuit breaker is open" when the breaker refused it).
     */
    public static <T> List<T> awaitAll(List<Future<T>> pending, String name, Object endpoint) {
        List<T> out = new ArrayList<>(pending.size());
        Throwable failure = null;
        for (Future<T> f : pending) {
            try {
                out.add(f.get());
            } catch (ExecutionException e) {
                failure = failure == null ? e.getCause() : failure;
                out.add(null);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                pending.forEach(p -> p.cancel(true));
                throw new SourceUnavailableException(name, "interrupted", e);
            }
        }
        if (failure != null) {
            String why = failure instanceof CallNotPermittedException ? "circuit breaker is open" : failure.toString();
            throw new SourceUnavailableException(name, why + " (" + endpoint + ")", failure);
        }
        return out;
    }

    /** The {@code Retry-After} header in milliseconds (delta-seconds form), or 0 when absent or a date. */
    public static long retryAfterMillis(HttpHeaders headers) {
        return headers.firstValue("Retry-After").map(v -> {
            try {
                return Math.max(0, (long) (Double.parseDouble(v.trim()) * 1000));
            } catch (NumberFormatException e) {
                return 0L;
            }
        }).orElse(0L);
    }
}
