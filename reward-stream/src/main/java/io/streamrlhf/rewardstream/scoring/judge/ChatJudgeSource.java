package io.streamrlhf.rewardstream.scoring.judge;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.resilience4j.circuitbreaker.CallNotPermittedException;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.core.functions.CheckedSupplier;
import io.github.resilience4j.retry.Retry;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.streamrlhf.rewardstream.scoring.RewardSource;
import io.streamrlhf.rewardstream.scoring.ScoringInput;
import io.streamrlhf.rewardstream.scoring.SourceUnavailableException;
import io.streamrlhf.rewardstream.scoring.remote.CallGuards;
import io.streamrlhf.rewardstream.scoring.remote.EndpointHttpException;
import io.streamrlhf.schemas.avro.ModelRef;
import io.streamrlhf.schemas.avro.ScoreSource;
import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
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
 * <p>Pairwise with a {@code reference}, each response is compared with that fixed text. Pairwise without one, each
 * response is compared with the other responses to the same prompt in its batch (a worker's group arrives together,
 * keyed by prompt): its score is the share of comparisons it wins, and a response with no group mate in the batch
 * is unscorable (NaN). Every comparison is asked in both orders unless {@code orders=one}, so a judge that favours
 * the first (or second) position gives a tie instead of a verdict for whichever response happened to come first.
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
    /** Times each HTTP call to the judge; set by {@link #bindTo}, none until then. */
    private volatile Timer latency;

    public ChatJudgeSource(String name, long version, JudgeSettings settings) {
        this.name = Objects.requireNonNull(name, "name");
        this.version = version;
        this.settings = Objects.requireNonNull(settings, "settings");
        this.http = HttpClient.newBuilder().connectTimeout(settings.timeout()).build();
        this.breaker = CallGuards.breaker(name, settings.breakerFailures(), settings.breakerOpen());
        this.retry = CallGuards.retry(name, settings.retries(), settings.backoff());
        this.pool = CallGuards.daemonPool("judge-" + name, settings.concurrency());
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

    /**
     * Exports this judge's call latency ({@code rlhf.judge.latency}, a timer of each HTTP call, retries counted
     * apart) and its breaker's state ({@code rlhf.judge.breaker.state}: 0 closed, 1 open, 2 half-open), tagged with
     * the source's name.
     */
    public void bindTo(MeterRegistry meters) {
        latency = Timer.builder("rlhf.judge.latency").tag("source", name)
                .description("One HTTP call to the judge, answered or failed").register(meters);
        Gauge.builder("rlhf.judge.breaker.state", breaker, b -> switch (b.getState()) {
            case CLOSED -> 0;
            case OPEN, FORCED_OPEN -> 1;
            case HALF_OPEN -> 2;
            default -> -1;
        }).tag("source", name).description("The judge's circuit breaker: 0 closed, 1 open, 2 half-open")
                .register(meters);
    }

    /** The breaker's state: CLOSED, OPEN or HALF_OPEN (for metrics and tests). */
    public CircuitBreaker.State circuitState() {
        return breaker.getState();
    }

    @Override
    public double[] score(List<ScoringInput> batch) {
        if (settings.mode() == JudgeMode.PAIRWISE && (settings.reference() == null || settings.reference().isEmpty())) {
            return scoreGroups(batch);
        }
        // While the breaker is open every call below fails at once with CallNotPermittedException (never retried),
        // so a dead judge costs no time; after breakerOpen one trial call is let through.
        List<Future<Double>> pending = new ArrayList<>(batch.size());
        for (ScoringInput input : batch) {
            CheckedSupplier<String> call = () -> complete(render(input));
            CheckedSupplier<String> guarded = Retry.decorateCheckedSupplier(retry,
                    CircuitBreaker.decorateCheckedSupplier(breaker, call));
            pending.add(CallGuards.submit(pool, () -> parse(guarded.get(), input)));
        }
        List<Double> verdicts = CallGuards.awaitAll(pending, name, settings.endpoint());
        double[] out = new double[batch.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = verdicts.get(i);
        }
        return out;
    }

    /**
     * Asks the judge once which of two responses to {@code prompt} is better, {@code a} shown first (as "A"), with the
     * configured template and system message when this is a pairwise judge.
     *
     * @return 1 when {@code a} wins, 0 when {@code b} wins, NaN when the reply names neither
     * @throws SourceUnavailableException when the judge cannot be reached
     */
    public double compare(String prompt, String a, String b) {
        boolean pairwise = settings.mode() == JudgeMode.PAIRWISE;
        String user = fill(pairwise ? settings.userTemplate() : JudgeSettings.PAIRWISE_TEMPLATE, prompt, a, b);
        String system = pairwise ? settings.systemPrompt() : JudgeSettings.PAIRWISE_SYSTEM;
        try {
            String reply = Retry.decorateCheckedSupplier(retry, CircuitBreaker.decorateCheckedSupplier(breaker,
                    () -> complete(system, user))).get();
            return letter(reply);
        } catch (Throwable t) {
            throw new SourceUnavailableException(name, t.toString(), t);
        }
    }

    /**
     * How strongly the judge prefers {@code a} to {@code b}: asked in both orders (unless {@code orders=one}), the
     * mean of "a wins as A" and "a wins as B" — 1 or 0 when both orders agree, 0.5 when the verdict followed the
     * position.
     *
     * @return a value in [0, 1], or NaN when a reply names neither response
     * @throws SourceUnavailableException when the judge cannot be reached
     */
    public double preference(String prompt, String a, String b) {
        double first = compare(prompt, a, b);
        if (!settings.bothOrders()) {
            return first;
        }
        double second = compare(prompt, b, a);
        return Double.isNaN(first) || Double.isNaN(second) ? Double.NaN : (first + (1.0 - second)) / 2.0;
    }

    /** Pairwise among group mates: each response's share of wins against the others for its prompt in the batch. */
    private double[] scoreGroups(List<ScoringInput> batch) {
        Map<String, List<Integer>> groups = new LinkedHashMap<>();
        for (int i = 0; i < batch.size(); i++) {
            groups.computeIfAbsent(batch.get(i).promptText(), k -> new ArrayList<>()).add(i);
        }
        record Pair(int a, int b, Future<Double> verdict) {
        }
        List<Pair> pairs = new ArrayList<>();
        for (List<Integer> group : groups.values()) {
            for (int x = 0; x < group.size(); x++) {
                for (int y = x + 1; y < group.size(); y++) {
                    ScoringInput a = batch.get(group.get(x));
                    ScoringInput b = batch.get(group.get(y));
                    pairs.add(new Pair(group.get(x), group.get(y), pool.submit(() -> preference(a.promptText(),
                            a.responseText(), b.responseText()))));
                }
            }
        }
        double[] wins = new double[batch.size()];
        int[] counted = new int[batch.size()];
        boolean[] unreadable = new boolean[batch.size()];
        for (Pair pair : pairs) {
            double p;
            try {
                p = pair.verdict().get();
            } catch (ExecutionException e) {
                pairs.forEach(other -> other.verdict().cancel(true));
                throw e.getCause() instanceof SourceUnavailableException u ? u
                        : new SourceUnavailableException(name, e.getCause().toString(), e.getCause());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                pairs.forEach(other -> other.verdict().cancel(true));
                throw new SourceUnavailableException(name, "interrupted", e);
            }
            if (Double.isNaN(p)) {
                unreadable[pair.a()] = true;
                unreadable[pair.b()] = true;
                continue;
            }
            wins[pair.a()] += p;
            wins[pair.b()] += 1.0 - p;
            counted[pair.a()]++;
            counted[pair.b()]++;
        }
        double[] out = new double[batch.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = counted[i] == 0 ? Double.NaN : wins[i] / counted[i];
            if (counted[i] == 0) {
                LOG.warn("judge '{}' could not score {}: {}", name, batch.get(i).id(), unreadable[i]
                        ? "no readable verdict" : "no other response to its prompt in the batch");
            }
        }
        return out;
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
        Timer timer = latency;
        if (timer == null) {
            return call(system, user);
        }
        long start = System.nanoTime();
        try {
            return call(system, user);
        } finally {
            timer.record(System.nanoTime() - start, TimeUnit.NANOSECONDS);
        }
    }

    private String call(String system, String user) throws IOException, InterruptedException {
        ObjectNode body = JSON.createObjectNode();
        body.put("model", settings.model());
        body.put("temperature", 0);
        body.put("max_tokens", settings.maxTokens());
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
            throw new EndpointHttpException("judge " + settings.endpoint(), response.statusCode(), response.body(),
                    CallGuards.retryAfterMillis(response.headers()));
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

    private static String abbreviate(String s) {
        return s.length() <= 200 ? s : s.substring(0, 200) + "...";
    }

    @Override
    public void close() {
        pool.shutdownNow();
    }
}
