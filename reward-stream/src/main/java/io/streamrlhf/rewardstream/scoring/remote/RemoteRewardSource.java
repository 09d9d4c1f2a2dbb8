package io.streamrlhf.rewardstream.scoring.remote;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.core.functions.CheckedSupplier;
import io.github.resilience4j.ratelimiter.RateLimiter;
import io.github.resilience4j.ratelimiter.RateLimiterConfig;
import io.github.resilience4j.retry.Retry;
import io.streamrlhf.rewardstream.scoring.RewardSource;
import io.streamrlhf.rewardstream.scoring.ScoringInput;
import io.streamrlhf.rewardstream.scoring.SourceUnavailableException;
import io.streamrlhf.schemas.avro.ModelRef;
import io.streamrlhf.schemas.avro.ScoreSource;
import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A reward model behind HTTP ({@code http:URL}), as OpenRLHF's remote RM or veRL's reward server: each batch of up
 * to {@code batch} inputs is one POST of
 * <pre>{@code {"items": [{"id": "...", "prompt": "...", "response": "...", "references": ["..."], "category": null}]}}</pre>
 * answered with {@code {"scores": [0.7, ...]}} — one number (or {@code null}, read as NaN: not scorable) per item,
 * in order.
 *
 * <p>Requests run {@code concurrency} at a time, at most {@code rate} a second (callers over the rate wait for a
 * permit rather than fail), each with a timeout; a failed attempt (timeout, I/O error, HTTP 429 or 5xx) is retried
 * with backoff and every attempt passes the same circuit breaker as the judges ({@link CallGuards}). A batch either
 * gets every score or fails as a whole with {@link SourceUnavailableException}, which the ensemble turns into dead
 * letters or scores without this source, as configured — nothing is dropped silently. A reply of the wrong shape is
 * a failure, not retried.
 */
public final class RemoteRewardSource implements RewardSource {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final String name;
    private final long version;
    private final RemoteSettings settings;
    private final HttpClient http;
    private final CircuitBreaker breaker;
    private final Retry retry;
    private final RateLimiter limiter;
    private final ExecutorService pool;
    private final AtomicInteger requests = new AtomicInteger();

    public RemoteRewardSource(String name, long version, RemoteSettings settings) {
        this.name = Objects.requireNonNull(name, "name");
        this.version = version;
        this.settings = Objects.requireNonNull(settings, "settings");
        this.http = HttpClient.newBuilder().connectTimeout(settings.timeout()).build();
        this.breaker = CallGuards.breaker(name, settings.breakerFailures(), settings.breakerOpen());
        this.retry = CallGuards.retry(name, settings.retries(), settings.backoff());
        this.limiter = settings.ratePerSecond() <= 0 ? null : RateLimiter.of(name, RateLimiterConfig.custom()
                .limitRefreshPeriod(Duration.ofNanos((long) (1e9 / settings.ratePerSecond())))
                .limitForPeriod(1)
                // Over the rate, a request waits its turn; only a wait longer than this fails it.
                .timeoutDuration(Duration.ofMinutes(5))
                .build());
        this.pool = CallGuards.daemonPool("reward-server-" + name, settings.concurrency());
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public ScoreSource kind() {
        return ScoreSource.NEURAL_RM;
    }

    @Override
    public long version() {
        return version;
    }

    @Override
    public ModelRef modelRef() {
        return new ModelRef(settings.model(), version);
    }

    /** The settings this source calls with. */
    public RemoteSettings settings() {
        return settings;
    }

    /** The breaker's state: CLOSED, OPEN or HALF_OPEN (for metrics and tests). */
    public CircuitBreaker.State circuitState() {
        return breaker.getState();
    }

    /** HTTP requests sent so far, retries included (for tests and metrics). */
    public int requestsSent() {
        return requests.get();
    }

    @Override
    public double[] score(List<ScoringInput> batch) {
        List<Future<double[]>> pending = new ArrayList<>();
        for (int from = 0; from < batch.size(); from += settings.batch()) {
            List<ScoringInput> part = batch.subList(from, Math.min(batch.size(), from + settings.batch()));
            CheckedSupplier<double[]> call = () -> post(part);
            CheckedSupplier<double[]> guarded = Retry.decorateCheckedSupplier(retry,
                    CircuitBreaker.decorateCheckedSupplier(breaker, limiter == null ? call
                            : RateLimiter.decorateCheckedSupplier(limiter, call)));
            pending.add(CallGuards.submit(pool, guarded));
        }
        List<double[]> parts = CallGuards.awaitAll(pending, name, settings.endpoint());
        double[] out = new double[batch.size()];
        for (int i = 0; i < parts.size(); i++) {
            System.arraycopy(parts.get(i), 0, out, i * settings.batch(), parts.get(i).length);
        }
        return out;
    }

    private double[] post(List<ScoringInput> part) throws IOException, InterruptedException {
        ObjectNode body = JSON.createObjectNode();
        ArrayNode items = body.putArray("items");
        for (ScoringInput input : part) {
            ObjectNode item = items.addObject();
            item.put("id", input.id());
            item.put("prompt", input.promptText());
            item.put("response", input.responseText());
            ArrayNode references = item.putArray("references");
            input.references().forEach(references::add);
            item.put("category", input.category());
        }
        HttpRequest.Builder request = HttpRequest.newBuilder(settings.endpoint())
                .timeout(settings.timeout())
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(body)));
        if (settings.apiKey() != null && !settings.apiKey().isEmpty()) {
            request.header("Authorization", "Bearer " + settings.apiKey());
        }
        requests.incrementAndGet();
        HttpResponse<String> response = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() / 100 != 2) {
            throw new EndpointHttpException("reward server " + settings.endpoint(), response.statusCode(),
                    response.body(), CallGuards.retryAfterMillis(response.headers()));
        }
        return scores(response.body(), part.size());
    }

    /** Reads {@code {"scores": [...]}} with exactly {@code expected} entries. */
    private double[] scores(String body, int expected) {
        JsonNode scores;
        try {
            scores = JSON.readTree(body).path("scores");
        } catch (IOException e) {
            throw new MalformedReplyException(settings.endpoint() + " answered with something that is not JSON: "
                    + abbreviate(body));
        }
        if (!scores.isArray() || scores.size() != expected) {
            throw new MalformedReplyException(settings.endpoint() + " answered without a \"scores\" array of "
                    + expected + " numbers: " + abbreviate(body));
        }
        double[] out = new double[expected];
        for (int i = 0; i < expected; i++) {
            JsonNode s = scores.get(i);
            if (s.isNull()) {
                out[i] = Double.NaN;
            } else if (s.isNumber()) {
                out[i] = s.asDouble();
            } else {
                throw new MalformedReplyException(settings.endpoint() + " answered scores[" + i + "] = " + s
                        + ", not a number or null");
            }
        }
        return out;
    }

    private static String abbreviate(String s) {
        return s.length() <= 200 ? s : s.substring(0, 200) + "...";
    }

    @Override
    public void close() {
        pool.shutdownNow();
    }

    /** The server answered 2xx with a body of the wrong shape: not retried, the batch fails. */
    public static final class MalformedReplyException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        MalformedReplyException(String message) {
            super(message);
        }
    }
}
