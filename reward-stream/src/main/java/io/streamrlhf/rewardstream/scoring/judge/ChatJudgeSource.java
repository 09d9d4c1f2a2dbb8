package io.streamrlhf.rewardstream.scoring.judge;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.resilience4j.circuitbreaker.CallNotPermittedException;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;
import io.github.resilience4j.core.IntervalFunction;
import io.github.resilience4j.core.functions.CheckedSupplier;
import io.github.resilience4j.retry.Retry;
import io.github.resilience4j.retry.RetryConfig;
import io.streamrlhf.rewardstream.scoring.RewardSource;
import io.streamrlhf.rewardstream.scoring.ScoringInput;
import io.streamrlhf.rewardstream.scoring.SourceUnavailableException;
import io.streamrlhf.schemas.avro.ModelRef;
import io.streamrlhf.schemas.avro.ScoreSource;
import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A generative judge over an OpenAI-compatible chat-completions endpoint ({@code judge:URL}).
 *
 * <p>Each input is one request ({@code temperature 0}); a batch's requests run {@code concurrency} at a time. Every
 * request has a timeout; a failed attempt (timeout, I/O error, HTTP 429 or 5xx) is retried with exponential backoff;
 * every attempt passes a circuit breaker that opens after {@code breakerFailures} consecutive failures and then
 * refuses calls at once for {@code breakerOpen}, after which one trial call decides whether it closes again. So a
 * dead judge costs the stream one slow batch, then fails fast until it recovers.
 *
 * <p>A batch either gets every verdict or fails as a whole with {@link SourceUnavailableException}; a reply with no
 * readable verdict gives NaN for that input (the ensemble dead-letters it or skips the judge, as configured).
 */
public final class ChatJudgeSource implements RewardSource {
    private static final Logger LOG = LoggerFactory.getLogger(ChatJudgeSource.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern NUMBER = Pattern.compile("-?\\d+(?:\\.\\d+)?");
    private static final Pattern LETTER = Pattern.compile("\\b([AB])\\b");

    private final String name;
    private final long version;
    private final JudgeSettings settings;
    private final HttpClient http;
    private final CircuitBreaker breaker;
    private final Retry retry;
    private final ExecutorService pool;

    public ChatJudgeSource(String name, long version, JudgeSettings settings) {
        this.name = Objects.requireNonNull(name, "name");
        this.version = version;
        this.settings = Objects.requireNonNull(settings, "settings");
        this.http = HttpClient.newBuilder().connectTimeout(settings.timeout()).build();
        this.breaker = CircuitBreaker.of(name, CircuitBreakerConfig.custom()
                // Opens when the last N calls all failed: a count window of N with a 100% threshold.
                .slidingWindowType(CircuitBreakerConfig.SlidingWindowType.COUNT_BASED)
                .slidingWindowSize(settings.breakerFailures())
                .minimumNumberOfCalls(settings.breakerFailures())
                .failureRateThreshold(100f)
                .waitDurationInOpenState(settings.breakerOpen())
                .permittedNumberOfCallsInHalfOpenState(1)
                .build());
        this.retry = Retry.of(name, RetryConfig.custom()
                .maxAttempts(settings.retries() + 1)
                .intervalFunction(settings.backoff().isZero() ? IntervalFunction.of(1L)
                        : IntervalFunction.ofExponentialBackoff(settings.backoff().toMillis(), 2.0))
                .retryOnException(ChatJudgeSource::retryable)
                .build());
        AtomicInteger threads = new AtomicInteger();
        this.pool = Executors.newFixedThreadPool(settings.concurrency(), r -> {
            Thread t = new Thread(r, "judge-" + name + "-" + threads.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public ScoreSource kind() {
        return ScoreSource.GENERATIVE_JUDGE;
    }

    @Override
    public long version() {
        return version;
    }

    @Override
    public ModelRef modelRef() {
        return new ModelRef(settings.model(), version);
    }

    public JudgeSettings settings() {
        return settings;
    }

    /** The breaker's state: CLOSED, OPEN or HALF_OPEN (for metrics and tests). */
    public CircuitBreaker.State circuitState() {
        return breaker.getState();
    }

    @Override
    public double[] score(List<ScoringInput> batch) {
        // While the breaker is open every call below fails at once with CallNotPermittedException (never retried),
        // so a dead judge costs no time; after breakerOpen one trial call is let through.
        List<Future<Double>> pending = new ArrayList<>(batch.size());
        for (ScoringInput input : batch) {
            CheckedSupplier<String> call = () -> complete(render(input));
            CheckedSupplier<String> guarded = Retry.decorateCheckedSupplier(retry,
                    CircuitBreaker.decorateCheckedSupplier(breaker, call));
            pending.add(pool.submit(() -> {
                try {
                    return parse(guarded.get(), input);
                } catch (Throwable t) {
                    throw t instanceof Exception e ? e : new RuntimeException(t);
                }
            }));
        }
        double[] out = new double[batch.size()];
        Throwable failure = null;
        for (int i = 0; i < out.length; i++) {
            try {
                out[i] = pending.get(i).get();
            } catch (ExecutionException e) {
                failure = failure == null ? e.getCause() : failure;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                pending.forEach(f -> f.cancel(true));
                throw new SourceUnavailableException(name, "interrupted", e);
            }
        }
        if (failure != null) {
            String why = failure instanceof CallNotPermittedException ? "circuit breaker is open" : failure.toString();
            throw new SourceUnavailableException(name, why + " (" + settings.endpoint() + ")", failure);
        }
        return out;
    }

    /**
     * Asks the judge which of two responses to {@code prompt} is better (the evaluator's pairwise judging).
     *
     * @return 1 when {@code a} wins, 0 when {@code b} wins, NaN when the reply names neither
     * @throws SourceUnavailableException when the judge cannot be reached
     */
    public double compare(String prompt, String a, String b) {
        String user = fill(JudgeSettings.PAIRWISE_TEMPLATE, prompt, a, b);
        try {
            String reply = Retry.decorateCheckedSupplier(retry, CircuitBreaker.decorateCheckedSupplier(breaker,
                    () -> complete(JudgeSettings.PAIRWISE_SYSTEM, user))).get();
            return letter(reply);
        } catch (Throwable t) {
            throw new SourceUnavailableException(name, t.toString(), t);
        }
    }

    private String render(ScoringInput input) {
        return fill(settings.userTemplate(), input.promptText(), input.responseText(), settings.reference());
    }

    private static String fill(String template, String prompt, String response, String reference) {
        return template.replace("{prompt}", prompt).replace("{response}", response)
                .replace("{reference}", reference == null ? "" : reference);
    }

    private String complete(String user) throws IOException, InterruptedException {
        return complete(settings.systemPrompt(), user);
    }

    private String complete(String system, String user) throws IOException, InterruptedException {
        ObjectNode body = JSON.createObjectNode();
        body.put("model", settings.model());
        body.put("temperature", 0);
        body.put("max_tokens", 16);
        ArrayNode messages = body.putArray("messages");
        messages.addObject().put("role", "system").put("content", system);
        messages.addObject().put("role", "user").put("content", user);
        HttpRequest.Builder request = HttpRequest.newBuilder(settings.endpoint())
                .timeout(settings.timeout())
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(body)));
        if (settings.apiKey() != null && !settings.apiKey().isEmpty()) {
            request.header("Authorization", "Bearer " + settings.apiKey());
        }
        HttpResponse<String> response = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() / 100 != 2) {
            throw new JudgeHttpException(settings.endpoint().toString(), response.statusCode(), response.body());
        }
        JsonNode content = JSON.readTree(response.body()).path("choices").path(0).path("message").path("content");
        if (!content.isTextual()) {
            throw new IOException("judge " + settings.endpoint() + " answered without choices[0].message.content: "
                    + abbreviate(response.body()));
        }
        return content.asText();
    }

    private double parse(String reply, ScoringInput input) {
        double verdict = settings.mode() == JudgeMode.POINTWISE ? number(reply) : letter(reply);
        if (Double.isNaN(verdict)) {
            LOG.warn("judge '{}' gave no readable verdict for {}: {}", name, input.id(), abbreviate(reply));
        }
        return verdict;
    }

    static double number(String reply) {
        Matcher m = NUMBER.matcher(reply);
        return m.find() ? Double.parseDouble(m.group()) : Double.NaN;
    }

    static double letter(String reply) {
        Matcher m = LETTER.matcher(reply.trim());
        if (!m.find()) {
            return Double.NaN;
        }
        return m.group(1).equals("A") ? 1.0 : 0.0;
    }

    private static boolean retryable(Throwable t) {
        if (t instanceof CallNotPermittedException) {
            return false; // the breaker is open: retrying now only waits for nothing
        }
        if (t instanceof JudgeHttpException http) {
            return http.retryable();
        }
        return t instanceof IOException;
    }

    private static String abbreviate(String s) {
        return s.length() <= 200 ? s : s.substring(0, 200) + "...";
    }

    @Override
    public void close() {
        pool.shutdownNow();
    }
}
