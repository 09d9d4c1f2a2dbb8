package io.streamrlhf.rewardstream.scoring.judge;

import java.net.URI;
import java.time.Duration;
import java.util.Objects;

/**
 * Settings of a chat-completions judge.
 *
 * @param endpoint        the full chat-completions URL, e.g. {@code http://localhost:8000/v1/chat/completions}
 * @param model           the {@code model} field of each request
 * @param mode            pointwise or pairwise
 * @param systemPrompt    the system message
 * @param userTemplate    the user message, with {@code {prompt}}, {@code {response}} and (pairwise)
 *                        {@code {reference}} placeholders
 * @param reference       the reference response pairwise mode compares against
 * @param timeout         per-request timeout (connect and response)
 * @param retries         retries after a failed attempt (timeouts, I/O errors, HTTP 429 and 5xx)
 * @param backoff         wait before the first retry; doubles for each further one
 * @param breakerFailures consecutive failed calls that open the circuit
 * @param breakerOpen     how long the circuit stays open before one trial call
 * @param concurrency     requests in flight at once within a batch
 * @param apiKey          bearer token, or {@code null}
 * @param maxTokens       the reply's token budget ({@code max_tokens} of each request)
 * @param bothOrders      pairwise: ask each comparison in both orders (A,B then B,A) so a judge's position bias
 *                        cancels, as RMB's judge protocol does
 */
public record JudgeSettings(URI endpoint, String model, JudgeMode mode, String systemPrompt, String userTemplate,
                            String reference, Duration timeout, int retries, Duration backoff, int breakerFailures,
                            Duration breakerOpen, int concurrency, String apiKey, int maxTokens, boolean bothOrders) {

    /** Default reply budget: a number or a letter, with room for a short preamble. */
    public static final int DEFAULT_MAX_TOKENS = 16;

    /** Default system message for pointwise rating. */
    public static final String POINTWISE_SYSTEM = "You are a strict judge of assistant responses. Rate how helpful, "
            + "correct and harmless the response is on a scale from 1 (worst) to 10 (best). Reply with the number only.";
    /** Default user message for pointwise rating. */
    public static final String POINTWISE_TEMPLATE = "Prompt:\n{prompt}\n\nResponse:\n{response}";
    /** Default system message for pairwise comparison. */
    public static final String PAIRWISE_SYSTEM = "You are a strict judge of assistant responses. Decide which of two "
            + "responses to the prompt is more helpful, correct and harmless. Reply with the letter A or B only.";
    /** Default user message for pairwise comparison. */
    public static final String PAIRWISE_TEMPLATE = "Prompt:\n{prompt}\n\nResponse A:\n{response}\n\nResponse B:\n{reference}";

    /** Checks every field and names the wrong one. */
    public JudgeSettings {
        Objects.requireNonNull(endpoint, "endpoint");
        Objects.requireNonNull(model, "model");
        Objects.requireNonNull(mode, "mode");
        Objects.requireNonNull(systemPrompt, "systemPrompt");
        Objects.requireNonNull(userTemplate, "userTemplate");
        String scheme = endpoint.getScheme();
        if (scheme == null || !(scheme.equals("http") || scheme.equals("https"))) {
            throw new IllegalArgumentException("judge endpoint must be an http(s) URL, got " + endpoint);
        }
        require(maxTokens >= 1, "max_tokens must be >= 1, got " + maxTokens);
        require(timeout != null && !timeout.isNegative() && !timeout.isZero(), "timeout must be > 0");
        require(retries >= 0, "retries must be >= 0, got " + retries);
        require(backoff != null && !backoff.isNegative(), "backoff must be >= 0");
        require(breakerFailures >= 1, "breaker_failures must be >= 1, got " + breakerFailures);
        require(breakerOpen != null && !breakerOpen.isNegative() && !breakerOpen.isZero(), "breaker_open_ms must be > 0");
        require(concurrency >= 1, "concurrency must be >= 1, got " + concurrency);
    }

    /** Settings with the default reply budget, both orders asked. */
    public JudgeSettings(URI endpoint, String model, JudgeMode mode, String systemPrompt, String userTemplate,
                         String reference, Duration timeout, int retries, Duration backoff, int breakerFailures,
                         Duration breakerOpen, int concurrency, String apiKey) {
        this(endpoint, model, mode, systemPrompt, userTemplate, reference, timeout, retries, backoff, breakerFailures,
                breakerOpen, concurrency, apiKey, DEFAULT_MAX_TOKENS, true);
    }

    /** Defaults for {@code endpoint}: pointwise, 10 s timeout, 2 retries from 200 ms, open after 5 failures for 30 s. */
    public static JudgeSettings defaults(URI endpoint, String model) {
        return new JudgeSettings(endpoint, model, JudgeMode.POINTWISE, POINTWISE_SYSTEM, POINTWISE_TEMPLATE, null,
                Duration.ofSeconds(10), 2, Duration.ofMillis(200), 5, Duration.ofSeconds(30), 4, null);
    }

    private static void require(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException("judge settings: " + message);
        }
    }
}
