package io.streamrlhf.producer.feedback;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.streamrlhf.schemas.avro.Feedback;
import io.streamrlhf.schemas.avro.Generation;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.time.Duration;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The feedback service ({@code rlhf feedback serve}), on the JDK's built-in HTTP(S) server.
 *
 * <table>
 *   <caption>Routes</caption>
 *   <tr><td>{@code POST /api/feedback}</td><td>one label as JSON ({@link FeedbackParser}); 202 with its id once
 *       it is stored on the {@code feedback} topic, 200 {@code duplicate} for a {@code feedback_id} stored
 *       recently</td></tr>
 *   <tr><td>{@code GET /api/pair}</td><td>a prompt and two of its recent generations, for the rater page; 404 while
 *       there is none</td></tr>
 *   <tr><td>{@code GET /api/response}</td><td>a prompt and one of its recent generations, for a rating on the rater
 *       page; 404 while there is none</td></tr>
 *   <tr><td>{@code GET /rate}</td><td>the rater page: a pair to compare (A or B better, tie, both bad) or one response
 *       to rate on a scale of 1 to 5, skip, optional confidence and comment, keyboard shortcuts and a count of what
 *       is left of the rater's batch ({@code ?batch=N}, default 20); every label goes through {@code POST
 *       /api/feedback} (open it as {@code /rate#token=TOKEN}; the fragment never reaches a server log)</td></tr>
 *   <tr><td>{@code GET /health}</td><td>200 {@code ok}</td></tr>
 * </table>
 *
 * <p>Hardening. With {@linkplain FeedbackTokens tokens} every {@code /api/*} call needs {@code Authorization: Bearer
 * TOKEN}; the token says who the annotator is and what source they are, and a body naming another annotator or
 * source is refused (a body may leave both out). Without tokens the server binds loopback addresses only. Each
 * caller (token, or client address when open) is rate-limited (429 with {@code Retry-After}); a body must arrive
 * within the read timeout, else its connection is closed, so slow bodies cannot hold the request threads; labels
 * with more candidates than allowed are refused; duplicate {@code feedback_id}s are not stored again (a bounded
 * memory of recent ids). HTTPS with a PKCS#12 keystore is an option.
 *
 * <p>Every refusal is a 4xx with a JSON body {@code {"error": "...", "field": "..."}} naming the problem, and nothing
 * is written: 400 malformed or invalid JSON, 401 missing bearer token, 403 wrong token or another annotator's id or
 * source in the body, 404 unknown route, 405 wrong method, 413 body over the size limit or too many candidates, 415
 * not {@code application/json}, 429 over the rate limit.
 */
public final class FeedbackServer implements AutoCloseable {

    /**
     * A refused request's body is read and dropped, up to this many bytes, before the answer goes out: a server
     * that answers and closes while the client is still sending resets the connection, and the client never reads
     * the answer. A longer body loses its connection after the answer (the client may see only the reset).
     */
    public static final int DRAIN_BYTES = 1 << 20;

    private static final Logger LOG = LoggerFactory.getLogger(FeedbackServer.class);
    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(com.fasterxml.jackson.databind.DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    static {
        // The JDK server reads the request line and headers before any handler runs; this property (seconds) makes
        // it close connections whose request is not complete in time. It is read once per JVM, when the first
        // HTTP server starts, so it is set here only when nobody has chosen a value.
        if (System.getProperty("sun.net.httpserver.maxReqTime") == null) {
            System.setProperty("sun.net.httpserver.maxReqTime", "30");
        }
        // Headers and body go out in separate writes; without TCP_NODELAY the second waits for the client's delayed
        // ACK, about 40 ms a response on Linux.
        if (System.getProperty("sun.net.httpserver.nodelay") == null) {
            System.setProperty("sun.net.httpserver.nodelay", "true");
        }
    }

    /**
     * HTTPS settings.
     *
     * @param keystore PKCS#12 keystore with the server's key and certificate
     * @param password its password
     */
    public record Tls(Path keystore, char[] password) {
        /** Checks the values. */
        public Tls {
            Objects.requireNonNull(keystore, "keystore");
            Objects.requireNonNull(password, "password");
        }
    }

    /**
     * Server settings.
     *
     * @param bindAddress   interface to listen on; anything but a loopback address needs tokens
     * @param port          port, 0 for any free one
     * @param tokens        the annotators' bearer tokens; {@link FeedbackTokens#none()} for an open API on loopback
     * @param maxBodyBytes  largest request body accepted
     * @param maxCandidates most candidates (generation ids or texts) one label may carry
     * @param ratePerSecond requests a second each caller may make, sustained
     * @param rateBurst     requests a caller may make at once
     * @param readTimeout   how long a request body may take to arrive
     * @param duplicateIds  how many recent {@code feedback_id}s are remembered to drop duplicates
     * @param threads       request threads
     * @param tls           HTTPS settings, or empty for plain HTTP
     */
    public record Options(String bindAddress, int port, FeedbackTokens tokens, int maxBodyBytes, int maxCandidates,
                          double ratePerSecond, int rateBurst, Duration readTimeout, int duplicateIds, int threads,
                          Optional<Tls> tls) {

        /** Checks the values. */
        public Options {
            Objects.requireNonNull(bindAddress, "bindAddress");
            Objects.requireNonNull(tokens, "tokens");
            Objects.requireNonNull(readTimeout, "readTimeout");
            Objects.requireNonNull(tls, "tls");
            if (port < 0 || port > 65535) {
                throw new IllegalArgumentException("--port must be in 0..65535, got " + port);
            }
            if (maxBodyBytes < 256) {
                throw new IllegalArgumentException("--max-body-bytes must be >= 256, got " + maxBodyBytes);
            }
            if (maxCandidates < 2 || maxCandidates > FeedbackParser.MAX_CANDIDATES) {
                throw new IllegalArgumentException("--max-candidates must be in 2.." + FeedbackParser.MAX_CANDIDATES
                        + ", got " + maxCandidates);
            }
            if (!(ratePerSecond > 0) || rateBurst < 1) {
                throw new IllegalArgumentException("--rate must be > 0 and --burst >= 1, got " + ratePerSecond + " and "
                        + rateBurst);
            }
            if (readTimeout.isNegative() || readTimeout.isZero()) {
                throw new IllegalArgumentException("--read-timeout must be > 0, got " + readTimeout);
            }
            if (duplicateIds < 1 || threads < 1) {
                throw new IllegalArgumentException("duplicate-id memory and threads must be >= 1, got "
                        + duplicateIds + " and " + threads);
            }
        }

        /**
         * Defaults: loopback, port 8088, no tokens, 64 KiB bodies, 16 candidates, 5 requests a second with bursts of
         * 20 per caller, 10 s to send a body, 100,000 recent ids, 16 threads, plain HTTP.
         */
        public static Options defaults() {
            return new Options("127.0.0.1", 8088, FeedbackTokens.none(), 64 * 1024, 16, 5.0, 20,
                    Duration.ofSeconds(10), 100_000, 16, Optional.empty());
        }

        /** With another interface and port. */
        public Options bind(String address, int listenPort) {
            return new Options(address, listenPort, tokens, maxBodyBytes, maxCandidates, ratePerSecond, rateBurst,
                    readTimeout, duplicateIds, threads, tls);
        }

        /** With these tokens. */
        public Options withTokens(FeedbackTokens t) {
            return new Options(bindAddress, port, t, maxBodyBytes, maxCandidates, ratePerSecond, rateBurst,
                    readTimeout, duplicateIds, threads, tls);
        }

        /** With these body and candidate limits. */
        public Options withLimits(int bodyBytes, int candidates) {
            return new Options(bindAddress, port, tokens, bodyBytes, candidates, ratePerSecond, rateBurst,
                    readTimeout, duplicateIds, threads, tls);
        }

        /** With this rate limit per caller. */
        public Options withRate(double perSecond, int burst) {
            return new Options(bindAddress, port, tokens, maxBodyBytes, maxCandidates, perSecond, burst,
                    readTimeout, duplicateIds, threads, tls);
        }

        /** With this body read timeout and this many request threads. */
        public Options withReads(Duration timeout, int requestThreads) {
            return new Options(bindAddress, port, tokens, maxBodyBytes, maxCandidates, ratePerSecond, rateBurst,
                    timeout, duplicateIds, requestThreads, tls);
        }

        /** With this memory of recent feedback ids. */
        public Options withDuplicateIds(int ids) {
            return new Options(bindAddress, port, tokens, maxBodyBytes, maxCandidates, ratePerSecond, rateBurst,
                    readTimeout, ids, threads, tls);
        }

        /** Serving HTTPS with {@code t}. */
        public Options withTls(Tls t) {
            return new Options(bindAddress, port, tokens, maxBodyBytes, maxCandidates, ratePerSecond, rateBurst,
                    readTimeout, duplicateIds, threads, Optional.of(t));
        }
    }

    private final Options options;
    private final FeedbackSink sink;
    private final RecentGenerations recent;
    private final FeedbackParser parser = new FeedbackParser();
    private final Random random = new Random();
    private final byte[] page;
    private final RateLimiter limiter;
    private final RecentIds ids;
    private final Counter accepted;
    private final Counter refused;
    private final Counter duplicates;
    private final Counter limited;
    private final Counter timedOut;
    private HttpServer server;
    private ExecutorService executor;
    private TimedBodyReader bodies;

    /**
     * @param options settings
     * @param sink    where accepted labels go
     * @param recent  the window the rater page draws pairs from
     * @param meters  where the counters go
     */
    public FeedbackServer(Options options, FeedbackSink sink, RecentGenerations recent, MeterRegistry meters) {
        this.options = options;
        this.sink = sink;
        this.recent = recent;
        this.page = readPage();
        this.limiter = new RateLimiter(options.ratePerSecond(), options.rateBurst(), System::nanoTime);
        this.ids = new RecentIds(options.duplicateIds());
        this.accepted = Counter.builder("rlhf.feedback.accepted").register(meters);
        this.refused = Counter.builder("rlhf.feedback.refused").register(meters);
        this.duplicates = Counter.builder("rlhf.feedback.duplicates")
                .description("Labels whose feedback_id was stored recently; not stored again").register(meters);
        this.limited = Counter.builder("rlhf.feedback.rate_limited").register(meters);
        this.timedOut = Counter.builder("rlhf.feedback.read_timeouts")
                .description("Requests whose body did not arrive within the read timeout").register(meters);
    }

    /**
     * Binds and starts serving.
     *
     * @throws IllegalStateException when asked to bind a non-loopback address without tokens
     */
    public synchronized FeedbackServer start() throws IOException {
        InetAddress address = InetAddress.getByName(options.bindAddress());
        if (!address.isLoopbackAddress() && !options.tokens().enabled()) {
            throw new IllegalStateException("the feedback API on " + options.bindAddress() + " would be reachable "
                    + "from other hosts without authentication; give annotator tokens (--tokens FILE) or bind a "
                    + "loopback address (--bind 127.0.0.1)");
        }
        InetSocketAddress at = new InetSocketAddress(address, options.port());
        if (options.tls().isPresent()) {
            HttpsServer https = HttpsServer.create(at, 64);
            https.setHttpsConfigurator(new HttpsConfigurator(sslContext(options.tls().get())));
            server = https;
        } else {
            server = HttpServer.create(at, 64);
        }
        executor = Executors.newFixedThreadPool(options.threads(), r -> {
            Thread t = new Thread(r, "feedback-http");
            t.setDaemon(true);
            return t;
        });
        bodies = new TimedBodyReader(options.readTimeout());
        server.setExecutor(executor);
        server.createContext("/", this::route);
        server.start();
        LOG.info("feedback service on {}://{}:{}/ (rater page /rate, API /api/feedback){}",
                options.tls().isPresent() ? "https" : "http", options.bindAddress(), port(),
                options.tokens().enabled() ? ", " + options.tokens().size() + " annotator token(s)"
                        : ", open (loopback only)");
        return this;
    }

    /** The port actually bound. */
    public int port() {
        return server.getAddress().getPort();
    }

    private static SSLContext sslContext(Tls tls) {
        try (InputStream in = Files.newInputStream(tls.keystore())) {
            KeyStore store = KeyStore.getInstance("PKCS12");
            store.load(in, tls.password());
            KeyManagerFactory keys = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            keys.init(store, tls.password());
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(keys.getKeyManagers(), null, null);
            return context;
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalArgumentException("cannot use keystore " + tls.keystore() + " for HTTPS: "
                    + e.getMessage(), e);
        }
    }

    private void route(HttpExchange exchange) throws IOException {
        try (exchange) {
            String path = exchange.getRequestURI().getPath();
            String method = exchange.getRequestMethod().toUpperCase(Locale.ROOT);
            switch (path) {
                case "/health" -> send(exchange, 200, "text/plain; charset=utf-8",
                        "ok\n".getBytes(StandardCharsets.UTF_8));
                case "/", "/rate", "/rate/" -> {
                    if (!method.equals("GET")) {
                        error(exchange, 405, null, "use GET for " + path);
                    } else {
                        exchange.getResponseHeaders().add("Cache-Control", "no-store");
                        send(exchange, 200, "text/html; charset=utf-8", page);
                    }
                }
                case "/api/pair" -> {
                    if (!method.equals("GET")) {
                        error(exchange, 405, null, "use GET for /api/pair");
                    } else {
                        Optional<Caller> caller = authorised(exchange);
                        if (caller.isPresent() && withinRate(exchange, caller.get())) {
                            pair(exchange);
                        }
                    }
                }
                case "/api/response" -> {
                    if (!method.equals("GET")) {
                        error(exchange, 405, null, "use GET for /api/response");
                    } else {
                        Optional<Caller> caller = authorised(exchange);
                        if (caller.isPresent() && withinRate(exchange, caller.get())) {
                            response(exchange);
                        }
                    }
                }
                case "/api/feedback" -> {
                    if (!method.equals("POST")) {
                        error(exchange, 405, null, "use POST for /api/feedback");
                    } else {
                        Optional<Caller> caller = authorised(exchange);
                        if (caller.isPresent() && withinRate(exchange, caller.get())) {
                            feedback(exchange, caller.get());
                        }
                    }
                }
                default -> error(exchange, 404, null, "no such route " + path
                        + "; routes are POST /api/feedback, GET /api/pair, GET /api/response, GET /rate, GET /health");
            }
        } catch (RuntimeException e) {
            LOG.error("feedback request failed", e);
            try {
                error(exchange, 500, null, "internal error: " + e.getMessage());
            } catch (IOException | RuntimeException ignored) {
                // the response may have been started already
            }
        }
    }

    /** Who is calling: the token's annotator, or (open API) nobody in particular, known by address. */
    private record Caller(String rateKey, Optional<FeedbackTokens.Annotator> annotator) {
    }

    private Optional<Caller> authorised(HttpExchange exchange) throws IOException {
        if (!options.tokens().enabled()) {
            return Optional.of(new Caller("address:" + exchange.getRemoteAddress().getAddress().getHostAddress(),
                    Optional.empty()));
        }
        String header = exchange.getRequestHeaders().getFirst("Authorization");
        if (header == null || !header.regionMatches(true, 0, "Bearer ", 0, 7)) {
            exchange.getResponseHeaders().add("WWW-Authenticate", "Bearer realm=\"rlhf-feedback\"");
            error(exchange, 401, null, "missing bearer token: send 'Authorization: Bearer <token>'");
            return Optional.empty();
        }
        Optional<FeedbackTokens.Annotator> who = options.tokens().lookup(header.substring(7).trim());
        if (who.isEmpty()) {
            error(exchange, 403, null, "the bearer token is not valid");
            return Optional.empty();
        }
        return Optional.of(new Caller("annotator:" + who.get().annotatorId(), who));
    }

    private boolean withinRate(HttpExchange exchange, Caller caller) throws IOException {
        long waitMs = limiter.acquire(caller.rateKey());
        if (waitMs == 0) {
            return true;
        }
        limited.increment();
        long seconds = Math.max(1, (waitMs + 999) / 1000);
        exchange.getResponseHeaders().set("Retry-After", Long.toString(seconds));
        error(exchange, 429, null, "too many requests: at most " + options.ratePerSecond() + " a second (bursts of "
                + options.rateBurst() + "); retry after " + seconds + " s");
        return false;
    }

    private void feedback(HttpExchange exchange, Caller caller) throws IOException {
        String contentType = exchange.getRequestHeaders().getFirst("Content-Type");
        if (contentType == null || !contentType.toLowerCase(Locale.ROOT).startsWith("application/json")) {
            error(exchange, 415, null, "Content-Type must be application/json, got "
                    + (contentType == null ? "none" : contentType));
            return;
        }
        String length = exchange.getRequestHeaders().getFirst("Content-Length");
        if (length != null) {
            try {
                if (Long.parseLong(length.trim()) > options.maxBodyBytes()) {
                    error(exchange, 413, null, "body of " + length.trim() + " bytes exceeds the limit of "
                            + options.maxBodyBytes() + " bytes");
                    return;
                }
            } catch (NumberFormatException e) {
                error(exchange, 400, null, "Content-Length '" + length + "' is not a number");
                return;
            }
        }
        Optional<byte[]> read = readBody(exchange);
        if (read.isEmpty()) {
            return;  // timed out: the connection is gone, there is no one to answer
        }
        byte[] body = read.get();
        if (body.length > options.maxBodyBytes()) {
            error(exchange, 413, null, "body exceeds the limit of " + options.maxBodyBytes() + " bytes");
            return;
        }
        Feedback feedback;
        try {
            JsonNode node = JSON.readTree(body);
            if (node == null || node.isMissingNode()) {
                error(exchange, 400, null, "empty body: expected a JSON object");
                return;
            }
            if (caller.annotator().isPresent() && node instanceof ObjectNode object) {
                String conflict = takeIdentity(object, caller.annotator().get());
                if (conflict != null) {
                    error(exchange, 403, conflict.startsWith("source") ? "source" : "annotator_id", conflict);
                    return;
                }
            }
            feedback = parser.parse(node);
        } catch (JsonProcessingException e) {
            error(exchange, 400, null, FeedbackParser.malformed(e));
            return;
        } catch (FeedbackValidationException e) {
            error(exchange, 400, e.field(), e.getMessage());
            return;
        }
        int candidates = Math.max(feedback.getGenerationIds().size(), feedback.getTexts().size());
        if (candidates > options.maxCandidates()) {
            error(exchange, 413, feedback.getGenerationIds().isEmpty() ? "texts" : "generation_ids", "a label may "
                    + "carry at most " + options.maxCandidates() + " candidates, this one has " + candidates);
            return;
        }
        if (!ids.claim(feedback.getFeedbackId())) {
            duplicates.increment();
            LOG.info("feedback {} from {} is a duplicate; not stored again", feedback.getFeedbackId(),
                    feedback.getAnnotatorId());
            ObjectNode dup = JSON.createObjectNode();
            dup.put("status", "duplicate");
            dup.put("feedback_id", feedback.getFeedbackId());
            send(exchange, 200, "application/json", JSON.writeValueAsBytes(dup));
            return;
        }
        try {
            sink.write(feedback);
        } catch (RuntimeException e) {
            ids.release(feedback.getFeedbackId());
            LOG.error("could not store feedback {}", feedback.getFeedbackId(), e);
            error(exchange, 503, null, "the label could not be stored, try again: " + e.getMessage());
            return;
        }
        accepted.increment();
        ObjectNode ok = JSON.createObjectNode();
        ok.put("status", "accepted");
        ok.put("feedback_id", feedback.getFeedbackId());
        ok.put("kind", feedback.getKind().name().toLowerCase(Locale.ROOT));
        if (feedback.getVerdict() != null) {
            ok.put("verdict", feedback.getVerdict().name().toLowerCase(Locale.ROOT));
        }
        ok.put("annotator_id", feedback.getAnnotatorId());
        ok.put("source", feedback.getSource().name().toLowerCase(Locale.ROOT));
        send(exchange, 202, "application/json", JSON.writeValueAsBytes(ok));
    }

    /**
     * Puts the token's annotator and source into the label; a body naming others is refused (the message says why),
     * a body leaving them out or repeating them is fine.
     */
    private static String takeIdentity(ObjectNode body, FeedbackTokens.Annotator who) {
        JsonNode annotator = body.get("annotator_id");
        if (annotator != null && !annotator.isNull() && !who.annotatorId().equals(annotator.asText())) {
            return "annotator_id '" + annotator.asText() + "' in the body is not this token's annotator '"
                    + who.annotatorId() + "'; leave it out, the token says who labels";
        }
        String source = who.source().name().toLowerCase(Locale.ROOT);
        JsonNode given = body.get("source");
        if (given != null && !given.isNull()
                && !source.equals(given.asText().toLowerCase(Locale.ROOT).replace('-', '_'))) {
            return "source '" + given.asText() + "' in the body is not this token's source '" + source
                    + "'; leave it out, the token says what kind of rater this is";
        }
        body.put("annotator_id", who.annotatorId());
        body.put("source", source);
        return null;
    }

    /** The body within the read timeout (up to one byte over the limit), or empty when it timed out. */
    private Optional<byte[]> readBody(HttpExchange exchange) throws IOException {
        Optional<byte[]> body = bodies.read(exchange, options.maxBodyBytes());
        if (body.isEmpty()) {
            timedOut.increment();
            refused.increment();
            LOG.info("refused POST /api/feedback from {}: the body did not arrive within {}; connection closed",
                    exchange.getRemoteAddress(), options.readTimeout());
        }
        return body;
    }

    private void pair(HttpExchange exchange) throws IOException {
        Optional<RecentGenerations.Pair> pair;
        synchronized (random) {
            pair = recent.randomPair(random);
        }
        if (pair.isEmpty()) {
            error(exchange, 404, null, "no prompt with two generations yet; workers have not generated any");
            return;
        }
        RecentGenerations.Pair p = pair.get();
        ObjectNode out = JSON.createObjectNode();
        out.put("prompt_id", p.promptId());
        out.put("prompt_text", p.promptText());
        ArrayNode gs = out.putArray("generations");
        for (Generation g : new Generation[] {p.first(), p.second()}) {
            ObjectNode o = gs.addObject();
            o.put("generation_id", g.getGenerationId());
            o.put("text", g.getResponseText());
            o.put("policy_version", g.getPolicyVersion());
        }
        exchange.getResponseHeaders().add("Cache-Control", "no-store");
        send(exchange, 200, "application/json", JSON.writeValueAsBytes(out));
    }

    private void response(HttpExchange exchange) throws IOException {
        Optional<Generation> one;
        synchronized (random) {
            one = recent.randomOne(random);
        }
        if (one.isEmpty()) {
            error(exchange, 404, null, "no generation to rate yet; workers have not generated any");
            return;
        }
        Generation g = one.get();
        ObjectNode out = JSON.createObjectNode();
        out.put("prompt_id", g.getPromptId());
        out.put("prompt_text", g.getPromptText());
        ObjectNode o = out.putArray("generations").addObject();
        o.put("generation_id", g.getGenerationId());
        o.put("text", g.getResponseText());
        o.put("policy_version", g.getPolicyVersion());
        exchange.getResponseHeaders().add("Cache-Control", "no-store");
        send(exchange, 200, "application/json", JSON.writeValueAsBytes(out));
    }

    private void error(HttpExchange exchange, int status, String field, String message) throws IOException {
        if (status >= 400 && status < 500) {
            refused.increment();
            LOG.info("refused {} {}: {} {}", exchange.getRequestMethod(), exchange.getRequestURI().getPath(), status,
                    message);
        }
        if (!bodies.drain(exchange, DRAIN_BYTES)) {
            // The body is not all read, so the connection cannot carry another request; saying so keeps a client
            // from sending its next request down a connection that is about to go.
            exchange.getResponseHeaders().set("Connection", "close");
        }
        ObjectNode body = JSON.createObjectNode();
        body.put("error", message);
        if (field != null) {
            body.put("field", field);
        }
        body.put("status", status);
        send(exchange, status, "application/json", JSON.writeValueAsBytes(body));
    }

    private static void send(HttpExchange exchange, int status, String type, byte[] body) throws IOException {
        exchange.getResponseHeaders().set("Content-Type", type);
        exchange.sendResponseHeaders(status, body.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(body);
        }
    }

    private static byte[] readPage() {
        try (InputStream in = FeedbackServer.class.getResourceAsStream("rater.html")) {
            if (in == null) {
                throw new IllegalStateException("rater.html is missing from the producer jar");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new IllegalStateException("cannot read rater.html: " + e.getMessage(), e);
        }
    }

    @Override
    public synchronized void close() {
        if (server != null) {
            server.stop(1);
            bodies.close();
            executor.shutdown();
            try {
                executor.awaitTermination(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            server = null;
        }
    }
}
