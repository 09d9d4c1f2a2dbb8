package io.streamrlhf.rewardstream.scoring.remote;

import java.net.URI;
import java.time.Duration;
import java.util.Objects;

/**
 * Settings of a remote reward server ({@code http:URL}).
 *
 * @param endpoint        the URL each batch is POSTed to
 * @param model           the model name recorded with each score ({@code SourceScore.model})
 * @param batch           most inputs in one request
 * @param timeout         per-request timeout (connect and response)
 * @param retries         retries after a failed attempt (timeouts, I/O errors, HTTP 429 and 5xx)
 * @param backoff         wait before the first retry; doubles for each further one (a longer Retry-After wins)
 * @param breakerFailures consecutive failed calls that open the circuit
 * @param breakerOpen     how long the circuit stays open before one trial call
 * @param concurrency     requests in flight at once
 * @param ratePerSecond   most requests a second (0: no limit); callers over it wait for a permit
 * @param apiKey          bearer token, or {@code null}
 */
public record RemoteSettings(URI endpoint, String model, int batch, Duration timeout, int retries, Duration backoff,
                             int breakerFailures, Duration breakerOpen, int concurrency, double ratePerSecond,
                             String apiKey) {

    /** Checks every field and names the wrong one. */
    public RemoteSettings {
        Objects.requireNonNull(endpoint, "endpoint");
        Objects.requireNonNull(model, "model");
        String scheme = endpoint.getScheme();
        if (scheme == null || !(scheme.equals("http") || scheme.equals("https"))) {
            throw new IllegalArgumentException("reward server endpoint must be an http(s) URL, got " + endpoint);
        }
        require(batch >= 1, "batch must be >= 1, got " + batch);
        require(timeout != null && !timeout.isNegative() && !timeout.isZero(), "timeout_ms must be > 0");
        require(retries >= 0, "retries must be >= 0, got " + retries);
        require(backoff != null && !backoff.isNegative(), "backoff_ms must be >= 0");
        require(breakerFailures >= 1, "breaker_failures must be >= 1, got " + breakerFailures);
        require(breakerOpen != null && !breakerOpen.isNegative() && !breakerOpen.isZero(),
                "breaker_open_ms must be > 0");
        require(concurrency >= 1, "concurrency must be >= 1, got " + concurrency);
        require(ratePerSecond >= 0 && !Double.isInfinite(ratePerSecond), "rate must be a finite number >= 0, got "
                + ratePerSecond);
    }

    /** Defaults: batches of 16, 10 s timeout, 2 retries from 200 ms, open after 5 failures for 30 s, 2 in flight. */
    public static RemoteSettings defaults(URI endpoint) {
        return new RemoteSettings(endpoint, endpoint.getHost() == null ? "remote" : endpoint.getHost(), 16,
                Duration.ofSeconds(10), 2, Duration.ofMillis(200), 5, Duration.ofSeconds(30), 2, 0, null);
    }

    private static void require(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException("reward server settings: " + message);
        }
    }
}
